using KernelMm.Model.Mm;

namespace KernelMm.Model.Tests.Mm;

/// <summary>What /proc/PID shows: status lines in task_mem's order, maps lines, pagemap entries, min_flt.</summary>
public class ProcfsTests
{
    private const long MiB = 1L << 20;
    private const ulong At = 0x200000000000;

    [Test]
    public void StatusHasEveryTaskMemLineInOrder()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("app");
        Assert.That(p.StatusLines().Select(l => l.Name), Is.EqualTo(new[]
        {
            "VmPeak", "VmSize", "VmLck", "VmPin", "VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem",
            "VmData", "VmStk", "VmExe", "VmLib", "VmPTE", "VmSwap",
        }));
    }

    [Test]
    public void MapsLinesAreTheKernelsFormat()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("app");
        p.Mmap(2 * MiB, Prot.Read, at: At);
        Assert.Multiple(() =>
        {
            Assert.That(p.Mm.Vmas[0].MapsLine(), Is.EqualTo("200000000000-200000200000 r--p 00000000 00:00 0 "));
            Assert.That(p.Mm.Vmas[^1].MapsLine(), Is.EqualTo("7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]"));
        });
    }

    [Test]
    public void PagemapShowsPresentZeroPageAndExclusivePages()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("app");
        p.Mmap(16 * 4096, at: At);
        p.Touch(At, 4 * 4096, Access.Write);
        p.Touch(At + 4 * 4096, 4 * 4096, Access.Read);
        var e = Pagemap.Read(k, p.Mm, At, 16);
        Assert.Multiple(() =>
        {
            Assert.That(e.Count(x => (x & Pagemap.PM_PRESENT) != 0), Is.EqualTo(8));
            Assert.That(e.Skip(4).Take(4).All(x => (long)(x & Pagemap.PM_PFRAME_MASK) == k.ZeroPfn && (x & Pagemap.PM_MMAP_EXCLUSIVE) == 0), Is.True);
            Assert.That(e.Take(4).All(x => (x & Pagemap.PM_MMAP_EXCLUSIVE) != 0), Is.True);
            Assert.That(e.Skip(8), Is.All.EqualTo(0UL));
        });
        var c = p.Fork("child");
        Assert.That(Pagemap.Read(k, p.Mm, At, 4).All(x => (x & Pagemap.PM_MMAP_EXCLUSIVE) == 0), Is.True, "shared with the child after fork");
    }

    [Test]
    public void MinFltCountsEachFaultOfTheTask()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("app");
        long start = p.MinFlt;
        p.Mmap(16 * 4096, at: At);
        p.Touch(At, 16 * 4096, Access.Read);
        p.Touch(At, 16 * 4096, Access.Write);
        Assert.That(p.MinFlt - start, Is.EqualTo(32), "16 zero-page reads, then 16 copy-on-write faults");
        p.Mmap(8 * 4096, flags: MapFlags.Populate);
        Assert.That(p.MinFlt - start, Is.EqualTo(40), "get_user_pages faults count for the task too");
    }
}
