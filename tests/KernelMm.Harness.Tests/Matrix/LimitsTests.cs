using KernelMm.Harness.Matrix;
using KernelMm.Harness.Suite;
using static KernelMm.Harness.Tests.Fakes.FakePatches;

namespace KernelMm.Harness.Tests.Matrix;

/// <summary>A runaway scenario is stopped by a limit, reported, and writes no snapshot.</summary>
public class LimitsTests
{
    private static readonly RunLimits SmallBudget = new(2_000, TimeSpan.FromSeconds(30));
    private static readonly RunLimits ShortClock = new(long.MaxValue, TimeSpan.FromMilliseconds(300));

    [Test]
    public void The_operation_budget_stops_a_runaway_loop_and_the_remaining_combinations_are_not_started()
    {
        using var clone = new TestClone();
        var series = Of(new Invisible("a", 1), new Invisible("b", 2), new Invisible("c", 3));
        var file = clone.Scenario("Scenarios/runaway.csx", "long n = 0;\nwhile (true)\n    n += Kernel.Vmstat[\"nr_free_pages\"];\n");
        // One combination at a time, so the first one's limit is seen before any other starts.
        var report = clone.Runner(series, SmallBudget, maxParallel: 1).Run(file);
        Assert.That(report.Status, Is.EqualTo(ScenarioStatus.Stopped));
        Assert.That(report.Results[0].Status, Is.EqualTo(CombinationStatus.Stopped));
        Assert.That(report.Results[0].Failure!.Message, Does.Contain("operation budget").And.Contain("2000"));
        Assert.That(report.Results[0].Failure!.Location, Is.EqualTo("Scenarios/runaway.csx:3"));
        Assert.That(report.Results.Skip(1).Select(r => r.Status), Is.All.EqualTo(CombinationStatus.NotStarted));
        Assert.That(report.Problems(), Has.Some.Contains("7 more combination(s) not started"));
        Assert.That(report.Snapshot, Is.Null);
        Assert.That(Directory.Exists(clone.Repo.SnapshotsDir), Is.False);
    }

    [Test]
    public void The_model_counts_touched_pages_against_the_budget()
    {
        using var clone = new TestClone();
        // One call, but a million pages: the model's own count stops it.
        var file = clone.Scenario("Scenarios/bigtouch.csx", "var p = Spawn(\"big\");\nvar a = p.Mmap(2.GiB());\np.Touch(a, 2.GiB(), Access.Read);\n");
        var report = clone.Runner(limits: new RunLimits(10_000, TimeSpan.FromSeconds(30))).Run(file);
        Assert.That(report.Status, Is.EqualTo(ScenarioStatus.Stopped), string.Join("\n", report.Problems()));
        Assert.That(report.Results[0].Failure!.Location, Is.EqualTo("Scenarios/bigtouch.csx:3"));
        Assert.That(report.Results[0].Operations, Is.LessThan(10), "stopped by the model's count, not the facade's");
    }

    [Test]
    public void The_wall_clock_stops_a_loop_that_never_calls_the_model()
    {
        using var clone = new TestClone();
        var file = clone.Scenario("Scenarios/spin.csx", "long n = 0;\nwhile (true) n++;\n");
        var report = clone.Runner(limits: ShortClock).Run(file);
        Assert.That(report.Status, Is.EqualTo(ScenarioStatus.Stopped));
        Assert.That(report.Results[0].Failure!.Message, Does.Contain("wall-clock"));
        Assert.That(report.Results[0].Failure!.Location, Is.EqualTo("Scenarios/spin.csx:2"));
    }

    [Test]
    public void Catching_the_limit_does_not_escape_it()
    {
        using var clone = new TestClone();
        var file = clone.Scenario("Scenarios/sly.csx",
            "for (;;)\n{\n    try { Kernel.Vmstat[\"nr_free_pages\"].ToString(); }\n    catch (Exception) { }\n}\n");
        var report = clone.Runner(limits: SmallBudget).Run(file);
        Assert.That(report.Status, Is.EqualTo(ScenarioStatus.Stopped));
    }

    [Test]
    public void Runaway_recursion_is_stopped_instead_of_crashing_the_host()
    {
        using var clone = new TestClone();
        var file = clone.Scenario("Scenarios/deep.csx", "long Down(long n)\n{\n    return 1 + Down(n + 1);\n}\nDown(0);\n");
        var report = clone.Runner().Run(file);
        Assert.That(report.Status, Is.EqualTo(ScenarioStatus.Stopped));
        Assert.That(report.Results[0].Failure!.Message, Does.Contain("recursion"));
    }

    [Test]
    public void Limits_come_from_the_environment()
    {
        var l = RunLimits.FromEnvironment(k => k switch { "KMM_MAX_OPS" => "500", "KMM_TIMEOUT" => "7", _ => null });
        Assert.That(l, Is.EqualTo(new RunLimits(500, TimeSpan.FromSeconds(7))));
        Assert.That(RunLimits.FromEnvironment(_ => null), Is.EqualTo(RunLimits.Default));
        Assert.Throws<ArgumentException>(() => RunLimits.FromEnvironment(k => k == "KMM_MAX_OPS" ? "lots" : null));
    }
}
