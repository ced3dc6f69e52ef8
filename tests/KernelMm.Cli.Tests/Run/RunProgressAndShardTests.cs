namespace KernelMm.Cli.Tests.Run;

/// <summary>
/// <c>kmm run</c> with stdout not a terminal (as here: the test host's output is a pipe):
/// a progress line on stderr per scenario; and <c>--shard</c> dealing by the costs that the
/// last unsharded run measured.
/// </summary>
[NonParallelizable]
public class RunProgressAndShardTests
{
    private KmmClone _clone = null!;

    [SetUp]
    public void SetUp()
    {
        _clone = new KmmClone();
        _clone.Write("Scenarios/a/one.csx", "var p = Spawn(\"w\");\np.Touch(p.Mmap(64.KiB()), 64.KiB(), Access.Write);\n");
        _clone.Write("Scenarios/b/two.csx", "Record(\"x\", 1);\n");
        _clone.Write("Scenarios/c/three.csx", "Record(\"x\", 2);\n");
    }

    [TearDown]
    public void TearDown() => _clone.Dispose();

    [Test]
    public void Each_finished_scenario_is_a_line_on_stderr_with_its_time()
    {
        var r = _clone.Kmm("run");
        Assert.That(r.ProgressLines, Has.Count.EqualTo(3), r.ToString());
        Assert.That(r.ProgressLines[0], Does.Match(@"^kmm run: \[1/3\] Scenarios/a/one\.csx: new snapshot \(32 combinations in \d+\.\d\d s, compiled in \d+\.\d\d s; \d+\.\d\d s elapsed\)$"));
        Assert.That(r.ProgressLines[1], Does.StartWith("kmm run: [2/3] Scenarios/b/two.csx: new snapshot (32 combinations in "));
        Assert.That(r.ProgressLines[2], Does.StartWith("kmm run: [3/3] Scenarios/c/three.csx: new snapshot (32 combinations in "));
        Assert.That(r.Out, Does.Not.Contain("kmm run: ["), "progress goes to stderr only");

        _clone.Kmm("accept");
        var again = _clone.Kmm("run", "Scenarios/b");
        Assert.That(again.ProgressLines, Is.EqualTo(new[] { again.ProgressLines[0] }));
        Assert.That(again.ProgressLines[0], Does.Match(@"^kmm run: \[1/1\] Scenarios/b/two\.csx: verified \(32 combinations in \d+\.\d\d s, compiled from cache; "));
    }

    [Test]
    public void Shards_are_dealt_by_the_measured_costs_of_the_last_unsharded_run()
    {
        Assert.That(_clone.Kmm("run").ExitCode, Is.EqualTo(1), "new snapshots");
        _clone.Kmm("accept");
        string costs = _clone.FullPath(".kmm-cache/scenario-costs.tsv");
        Assert.That(File.ReadAllLines(costs).Select(l => l.Split('\t')[0]), Is.EqualTo(new[] { "a/one", "b/two", "c/three" }), "the unsharded run measured each scenario");

        // By count, shard 1 of 2 would be one and three; by these costs three is alone.
        File.WriteAllLines(costs, ["a/one\t1", "b/two\t1", "c/three\t5"]);
        var first = _clone.Kmm("run", "--shard", "1/2");
        var second = _clone.Kmm("run", "--shard", "2/2");
        Assert.That(first.ProgressLines.Select(l => l.Split(':')[1].Split(' ')[^1]), Is.EqualTo(new[] { "Scenarios/c/three.csx" }), first.ToString());
        Assert.That(second.ProgressLines.Select(l => l.Split(':')[1].Split(' ')[^1]), Is.EqualTo(new[] { "Scenarios/a/one.csx", "Scenarios/b/two.csx" }), second.ToString());
        Assert.That(File.ReadAllLines(costs), Is.EqualTo(new[] { "a/one\t1", "b/two\t1", "c/three\t5" }), "a shard does not re-measure: its siblings must deal the same way");
    }
}
