using KernelMm.Harness.Bisect;
using KernelMm.Harness.Repo;
using KernelMm.Harness.Snapshots;
using KernelMm.Harness.State;

namespace KernelMm.Harness.Tests.Bisect;

/// <summary>
/// <c>--where</c> expressions against checkpoints read back from the committed snapshots:
/// every lookup of <see cref="WhereGlobals"/>, how a missing name and a throwing expression
/// come out, and compile errors that point at the expression's column.
/// </summary>
public class WhereExpressionTests
{
    private static readonly RepoLayout Repo = RepoLayout.Find(AppContext.BaseDirectory)!;

    /// <summary>kmem/free-ptes-uncharge with kmem-uncharge-free and pte-refcount: tables freed and uncharged.</summary>
    private static CheckpointState Uncharged => Outcome("kmem/free-ptes-uncharge", "!kaiser-nr-overhead & kmem-uncharge-free & pte-refcount")[0];

    private static IReadOnlyList<CheckpointState> Outcome(string scenario, string formula)
    {
        var file = SnapshotFile.Parse(File.ReadAllText(Path.Combine(Repo.SnapshotsDir, scenario + ".verified.txt")));
        return CheckpointState.Parse(file.Outcomes.Single(o => o.Formula == formula).State);
    }

    private static (WhereOutcome, string?) Eval(string expression, CheckpointState state)
    {
        var (compiled, errors) = WhereExpression.Compile(expression, null);
        Assert.That(compiled, Is.Not.Null, string.Join("\n", errors));
        return compiled!.Evaluate(state);
    }

    [TestCase("Vmstat[\"nr_page_table_pages\"] == 3")]
    [TestCase("Events[\"pgfree\"] == 32")]
    [TestCase("Meminfo[\"MemFree\"] > 4099356 && Meminfo[\"DirectMap4k\"] == 2048")]
    [TestCase("Recorded[\"after free_ptes: pagetables bytes\"] < 151552")]
    [TestCase("Recorded[\"after free_ptes: pagetables bytes\"] < Recorded[\"read back: pagetables bytes\"]")]
    [TestCase("Recorded[\"vm.free_ptes written\"] == true && Recorded[\"vm.free_ptes written\"] == \"true\"")]
    [TestCase("Recorded[\"after free_ptes: kmem bytes\"] - 45056 == 0")]
    [TestCase("Processes[\"qemu\"][\"VmPTE\"] == 20 && Processes[300].Memcg == \"vm\" && Processes.Count == 1")]
    [TestCase("Memcg[\"vm\"][\"pagetables\"] == 12288 && Memcg[\"vm\"].KmemUsage == 45056 && Memcg[\"vm\"][\"memory.usage_in_bytes\"] == 49152")]
    [TestCase("Warnings.Count == 0 && KernelPageTables.Contains(\"Low Kernel Mapping\") && Checkpoint == \"end\"")]
    [TestCase("!Vmstat.Has(\"nr_overhead\") && Vmstat.Get(\"nr_overhead\", -1) == -1")]
    public void Each_lookup_reads_the_checkpoint(string expression) =>
        Assert.That(Eval(expression, Uncharged), Is.EqualTo((WhereOutcome.True, (string?)null)));

    [Test]
    public void The_same_expressions_are_false_where_the_tables_were_not_uncharged()
    {
        var charged = Outcome("kmem/free-ptes-uncharge", "!kaiser-nr-overhead & !kmem-uncharge-free & pte-refcount")[0];
        Assert.That(Eval("Memcg[\"vm\"].KmemUsage == 45056", charged).Item1, Is.EqualTo(WhereOutcome.False));
        Assert.That(Eval("Warnings.Any(w => w.Contains(\"page still charged to cgroup\"))", charged).Item1, Is.EqualTo(WhereOutcome.True));
    }

    [Test]
    public void A_name_the_checkpoint_lacks_is_missing_and_says_which()
    {
        Assert.That(Eval("Vmstat[\"nr_overhead\"] > 256", Uncharged), Is.EqualTo((WhereOutcome.Missing, (string?)"/proc/vmstat has no 'nr_overhead' here")));
        Assert.That(Eval("Vmstat[\"nr_page_tables\"] > 0", Uncharged).Item2,
            Is.EqualTo("/proc/vmstat has no 'nr_page_tables' here (did you mean nr_page_table_pages?)"), "a typo gets the nearest names");
        Assert.That(Eval("Processes[\"gone\"][\"VmRSS\"] > 0", Uncharged).Item2, Is.EqualTo("processes has no 'gone' here"));
        Assert.That(Eval("Memcg[\"vm\"][\"nope\"] > 0", Uncharged).Item2, Is.EqualTo("memcg vm has no 'nope' here"));
        Assert.That(Eval("Recorded[\"nope\"] > 0", Uncharged).Item2, Is.EqualTo("recorded has no 'nope' here"));
    }

    [Test]
    public void An_expression_that_throws_otherwise_is_an_error_with_its_message()
    {
        Assert.That(Eval("Recorded[\"vm.free_ptes written\"] > 1", Uncharged),
            Is.EqualTo((WhereOutcome.Error, (string?)"FormatException: recorded 'vm.free_ptes written' is 'true', not a number")));
        Assert.That(Eval("1 / (Vmstat[\"nr_bounce\"]) > 0", Uncharged).Item1, Is.EqualTo(WhereOutcome.Error));
    }

    [TestCase("Vmstt[\"x\"] > 1", "--where:1:1: error CS0103: The name 'Vmstt' does not exist in the current context")]
    [TestCase("Vmstat[\"x\"] + 1", "--where:1:1: error CS0029: Cannot implicitly convert type 'long' to 'bool'")]
    [TestCase("Vmstat[\"x\"] > ", "--where:1:15: error CS1733: Expected expression")]
    public void A_compile_error_points_at_the_column(string expression, string error)
    {
        var (compiled, errors) = WhereExpression.Compile(expression, null);
        Assert.That(compiled, Is.Null);
        Assert.That(errors.Select(e => e.ToString()), Does.Contain(error));
    }

    [TestCase("Vmstat[\"nr_bounce\"] == 0;")]
    [TestCase("var x = 1; x > 0")]
    [TestCase("System.IO.File.Delete(\"x\"); true")]
    public void Only_one_expression_is_taken(string text)
    {
        var (compiled, errors) = WhereExpression.Compile(text, null);
        Assert.That(compiled, Is.Null);
        Assert.That(errors.Single().ToString(), Does.StartWith("--where: error KMM0001: expected one C# boolean expression"));
    }

    [Test]
    public void A_compiled_expression_is_cached_on_disk_and_reloaded()
    {
        using var dir = new TempDir();
        string text = $"Vmstat[\"nr_bounce\"] == 0 && \"{Guid.NewGuid():N}\".Length == 32";
        var (first, _) = WhereExpression.Compile(text, dir.Path);
        Assert.That(Directory.EnumerateDirectories(dir.Path, "kmm-where-*").Count(), Is.EqualTo(1));
        Assert.That(first!.Evaluate(Uncharged).Outcome, Is.EqualTo(WhereOutcome.True));
    }

    [Test]
    public void Checkpoints_read_back_every_section_of_a_snapshot()
    {
        var cp = Uncharged;
        Assert.That(cp.Name, Is.EqualTo("end"));
        Assert.That(cp.Vmstat[0], Is.EqualTo(("nr_free_pages", 1024866L)));
        Assert.That(cp.Meminfo.Single(m => m.Name == "VmallocTotal").Kb, Is.EqualTo(34359738367L));
        Assert.That(cp.Processes.Single().Status.Single(s => s.Name == "VmPTE").Kb, Is.EqualTo(20));
        Assert.That(cp.Processes[0].PageTables, Does.StartWith("---[ User Space ]---\n"));
        Assert.That(cp.Memcgs.Single().Lines.Single(l => l.Key == "memory.stat pagetables").Bytes, Is.EqualTo(12288));
        Assert.That(cp.Recorded, Has.Count.EqualTo(6));
        Assert.That(cp.KernelPageTables, Does.EndWith("x86/mm: Checked W+X mappings: passed, no W+X pages found.\n"));
        Assert.That(cp.Metrics().Select(m => m.Key), Does.Contain("memcg vm.memory.stat pagetables").And.Contain("process 300 (qemu).VmPTE")
            .And.Contain("recorded.after free_ptes: VmPTE kB").And.Contain("warnings.lines").And.Not.Contain("recorded.vm.free_ptes written"));
        var checkpoints = Outcome("processes/fork-exit-storm", "!kaiser-nr-overhead");
        Assert.That(checkpoints.Select(c => c.Name), Is.EqualTo(new[] { "server ready", "mid-storm, workers alive", "end" }));
        Assert.That(string.Concat(checkpoints.Select(c => $"### checkpoint: {c.Name}\n{c.Text}")),
            Is.EqualTo(SnapshotFile.Parse(File.ReadAllText(Path.Combine(Repo.SnapshotsDir, "processes/fork-exit-storm.verified.txt"))).Outcomes[0].State),
            "nothing is lost: the checkpoints put back together are the outcome's state");
    }
}
