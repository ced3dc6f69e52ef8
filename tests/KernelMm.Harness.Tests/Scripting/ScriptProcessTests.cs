namespace KernelMm.Harness.Tests.Scripting;

/// <summary>The process API a reproducer reaches for: mremap, mlock, /proc/PID/maps, pagemap, min_flt, status.</summary>
public class ScriptProcessTests
{
    [Test]
    public void Maps_pagemap_min_flt_and_status_read_as_proc_shows_them()
    {
        string snapshot = ScriptRunner.Snapshot("""
            var p = Spawn("reader");
            var buf = p.Mmap(4.MiB());
            p.Touch(buf, 2.MiB(), Access.Write);
            p.Touch(buf + 2.MiB(), 1.MiB(), Access.Read);
            var pm = p.Pagemap(buf, 4.MiB());
            Record("pagemap", pm);
            Record("maps", string.Join(" | ", p.Maps.Select(v => v.ToString())));
            Record("min_flt", p.MinFlt);
            Record("VmSwap", p.Status["VmSwap"]);
            Record("RssFile", p.Status["RssFile"]);
            """);
        Assert.Multiple(() =>
        {
            Assert.That(snapshot, Does.Contain("pagemap = 1024 pages: 768 present, 256 zero page, 512 exclusive\n"));
            Assert.That(snapshot, Does.Contain("maps = 7ffff7bff000-7ffff7fff000 rw-p 00000000 00:00 0 | 7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n"));
            Assert.That(snapshot, Does.Contain("min_flt = 769\n"), "the stack page at exec, then 512 + 256");
            Assert.That(snapshot, Does.Contain("VmSwap = 0\nRssFile = 0\n"));
        });
    }

    [Test]
    public void Mremap_and_mlock_change_the_tables_and_VmLck()
    {
        string snapshot = ScriptRunner.Snapshot("""
            var p = Spawn("mover");
            var buf = p.Mmap(4.MiB(), at: 0x200000000000UL);
            p.Touch(buf, 4.MiB(), Access.Write);
            var moved = p.Mremap(buf, 4.MiB(), 8.MiB(), MremapFlags.MayMove | MremapFlags.Fixed, newAddr: 0x300000000000UL);
            p.Mlock(moved, 8.MiB());
            Record("moved", moved);
            Record("VmLck", p.Status["VmLck"]);
            Record("VmRSS", p.Status["VmRSS"]);
            p.Munlock(moved + 4.MiB(), 4.MiB());
            Record("VmLck after munlock", p.Status["VmLck"]);
            """);
        Assert.That(snapshot, Does.Contain("moved = 0x300000000000\nVmLck = 8192\nVmRSS = 8196\nVmLck after munlock = 4096\n"));
    }

    [Test]
    public void Sysctl_reads_what_was_written_and_null_for_a_missing_file()
    {
        string snapshot = ScriptRunner.Snapshot("""
            Record("default", Kernel.Sysctl.Read("vm.overcommit_memory"));
            Kernel.Sysctl.Write("vm.overcommit_memory", 1);
            Record("written", Kernel.Sysctl.Read("vm.overcommit_memory"));
            Record("missing", Kernel.Sysctl.Read("vm.free_ptes"));
            """);
        Assert.That(snapshot, Does.Contain("default = 0\nwritten = 1\nmissing = null\n"));
    }
}
