using KernelMm.Harness.Snapshots;
using KernelMm.Harness.State;
using KernelMm.Harness.Suite;
using static KernelMm.Harness.Tests.Fakes.FakePatches;

namespace KernelMm.Harness.Tests.State;

/// <summary>Checkpoint(name, sections, range), SnapshotSections, unique names, and where a Record lands.</summary>
public class CheckpointSectionsTests
{
    private static ScenarioReport Run(string script)
    {
        using var clone = new TestClone();
        return clone.Runner(Of(new Invisible("quiet", 1))).Run(clone.Scenario("Scenarios/s.csx", script));
    }

    private static IReadOnlyList<CheckpointUnits> End(ScenarioReport r) => StateLayout.Split(r.Results[0].State!);

    [Test]
    public void A_checkpoint_prints_the_sections_it_names_and_the_end_state_the_default()
    {
        var r = Run("""
            SnapshotSections(Section.Vmstat | Section.Processes);
            var p = Spawn("w");
            var buf = p.Mmap(4.MiB());
            p.Touch(buf, 4.MiB(), Access.Write);
            Checkpoint("touched", Section.Meminfo | Section.KernelPageTables);
            p.Munmap(buf, 4.MiB());
            """);
        var cps = End(r);
        Assert.That(cps.Select(c => c.Name), Is.EqualTo(new[] { "touched", "end" }));
        Assert.That(cps[0].Units.Select(u => u.Key), Is.EqualTo(new[] { "meminfo", "kernel page tables", "recorded", "warnings" }));
        Assert.That(cps[1].Units.Select(u => u.Key), Is.EqualTo(new[] { "vmstat", "processes", "process 300 (w)", "recorded", "warnings" }));
        Assert.That(cps[1].Units[2].Lines, Has.None.StartsWith("user page tables"), "the page tables were not asked for");
    }

    [Test]
    public void A_range_limits_the_page_table_dumps_to_its_addresses()
    {
        var r = Run("""
            var p = Spawn("w");
            var buf = p.Mmap(8.MiB());
            p.Touch(buf, 4.MiB(), Access.Write);
            Checkpoint("heap", Section.Processes | Section.UserPageTables, range: (buf, 8.MiB()));
            """);
        var w = End(r)[0].Units.Single(u => u.Key == "process 300 (w)").Lines;
        int at = w.ToList().IndexOf("user page tables:");
        Assert.That(w[at + 1], Does.Match(@"^only 0x00007fff[0-9a-f]{8}-0x00007fff[0-9a-f]{8}:$"));
        Assert.That(w[at + 2], Is.EqualTo("---[ User Space ]---"));
        // The touched half, then the untouched half (a none PTE and the none PMD entries, cut at the range's end): 8M, nothing else.
        Assert.That(w.Skip(at + 3).Select(l => l[40..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0]), Is.EqualTo(new[] { "4M", "4K", "4092K" }));
        Assert.That(w.Skip(at + 3).Count(l => l.Contains("USR RW", StringComparison.Ordinal)), Is.EqualTo(1));
    }

    [Test]
    public void Clipping_cuts_lines_at_the_range_and_prints_their_sizes_as_ptdump_does()
    {
        const string dump = "---[ User Space ]---\n"
            + "0x0000000000000000-0x00007f8000000000      130560G                               pgd\n"
            + "0x00007f8000000000-0x00007fffc0000000         511G                               pud\n"
            + "---[ Kernel Space ]---\n"
            + "0xffff880000000000-0x0000000000000000         120T                               pgd\n";
        Assert.That(DumpClip.Clip(dump, AddressRange.Of(0x7f7ffff00000, 2 << 20)), Is.EqualTo(
            "only 0x00007f7ffff00000-0x00007f8000100000:\n---[ User Space ]---\n"
            + "0x00007f7ffff00000-0x00007f8000000000           1M                               pgd\n"
            + "0x00007f8000000000-0x00007f8000100000           1M                               pud\n"));
        Assert.That(DumpClip.Clip(dump, AddressRange.Of(0xfffffffffff00000, 1 << 20)), Does.EndWith(
            "---[ Kernel Space ]---\n0xfffffffffff00000-0x0000000000000000           1M                               pgd\n"));
        Assert.That(() => AddressRange.Of(0xfffffffffff00000, 2 << 20), Throws.ArgumentException);
        Assert.That(() => AddressRange.Of(0, 0), Throws.ArgumentException);
    }

    [Test]
    public void A_repeated_checkpoint_name_is_numbered()
    {
        var r = Run("""
            Checkpoint("x");
            Spawn("a");
            Checkpoint("x");
            Spawn("b");
            Checkpoint("end");
            Spawn("c");
            """);
        Assert.That(End(r).Select(c => c.Name), Is.EqualTo(new[] { "x", "x #2", "end", "end #2" }));
    }

    [Test]
    public void A_record_right_after_a_checkpoint_belongs_to_the_next_and_is_noted()
    {
        var r = Run("""
            var p = Spawn("w");
            Record("before", 1);
            Checkpoint("after spawn");
            Record("VmPTE", p.Status["VmPTE"]);
            """);
        var cps = End(r);
        Assert.That(cps[0].Units.Single(u => u.Key == "recorded").Lines, Is.EqualTo(new[] { "before = 1" }));
        Assert.That(cps[1].Name, Is.EqualTo("end"));
        Assert.That(cps[1].Units.Single(u => u.Key == "recorded").Lines, Has.Exactly(1).StartsWith("VmPTE = "));
        Assert.That(r.Notes.Single(), Does.Match(@"s\.csx:4: Record\(""VmPTE""\) follows Checkpoint\(""after spawn""\) with only reads in between, but a value belongs to the next checkpoint: it is under 'end'\."));
    }

    [Test]
    public void A_record_after_work_is_not_noted()
    {
        var r = Run("""
            var p = Spawn("w");
            Checkpoint("spawned");
            p.Touch(p.Mmap(1.MiB()), 1.MiB(), Access.Write);
            Record("VmRSS", p.Status["VmRSS"]);
            """);
        Assert.That(r.Notes, Is.Empty);
    }

    [Test]
    public void A_record_key_that_would_break_the_snapshot_is_refused()
    {
        var r = Run("Record(\"#### warnings\", 1);");
        Assert.That(r.Problems().Single(), Does.Contain("ArgumentException: Record key must be one non-empty line, not start with '#'"));
    }
}
