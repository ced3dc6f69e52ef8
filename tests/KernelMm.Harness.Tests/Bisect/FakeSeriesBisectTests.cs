using KernelMm.Harness.Bisect;
using KernelMm.Harness.Compare;
using KernelMm.Harness.Matrix;
using KernelMm.Harness.Repo;
using KernelMm.Patches;
using static KernelMm.Harness.Tests.Fakes.FakePatches;

namespace KernelMm.Harness.Tests.Bisect;

/// <summary>
/// Bisect, compare and check on series made for the test: the scenarios record values that
/// depend on the toggles in known ways, so every answer is known, and the reports are kept as
/// snapshots (tests/KernelMm.Harness.Tests/Verified/).
/// </summary>
public class FakeSeriesBisectTests
{
    // Each toggle changes what the workload does: "touch" faults in 1 MiB more, "fork" forks a child that
    // keeps running, and "both" is recorded only where the two are applied together.
    private const string Workload = """
        // A workload whose shape the toggles choose (a test scenario: real ones do not branch on toggles).
        var p = Spawn("worker");
        var buf = p.Mmap(4.MiB());
        p.Touch(buf, (Patches.IsApplied("touch") ? 2 : 1) * 1.MiB(), Access.Write);
        Checkpoint("touched");
        if (Patches.IsApplied("fork"))
            p.Fork("child");
        Record("weight", (Patches.IsApplied("touch") ? 2 : 1) * (Patches.IsApplied("fork") ? 3 : 1));
        Record("both", Patches.IsApplied("touch") && Patches.IsApplied("fork"));
        """;

    private static Series ThreePatches() => Of(new Invisible("quiet", 1), new Invisible("touch", 2), new Invisible("fork", 3));

    private static BisectSession Session(TestClone clone, Series series, string script, string? where, string? checkpoint = null)
    {
        var compiled = clone.Compiler().Compile(clone.Scenario("Scenarios/fake/workload.csx", script));
        Assert.That(compiled.Succeeded, string.Join("\n", compiled.Errors));
        Condition condition = where is null
            ? new DiffersCondition(checkpoint)
            : new WhereCondition(WhereExpression.Compile(where, clone.Repo.CacheDir).Expression!, checkpoint);
        return BisectSession.For(compiled.Scenario!, series, condition, RunLimits.Default, p => clone.Repo.Describe(p).DisplayPath);
    }

    [Test]
    public void The_report_names_the_steps_the_causes_the_effects_and_the_interacting_pair()
    {
        using var clone = new TestClone();
        var report = Bisector.Run("fake/workload", Session(clone, ThreePatches(), Workload, "Recorded[\"weight\"] >= 6"), new BisectOptions());
        Assert.That(report.Causes!.BadFormula, Is.EqualTo("touch & fork"));
        TestSnapshots.Verify("bisect/fake-workload", BisectRenderer.Render(report));
    }

    [Test]
    public void The_report_without_where_compares_with_the_base_kernel_at_the_checkpoint_asked()
    {
        using var clone = new TestClone();
        var report = Bisector.Run("fake/workload", Session(clone, ThreePatches(), Workload, null, "touched"), new BisectOptions());
        Assert.That(report.Causes!.BadFormula, Is.EqualTo("touch"), "at 'touched' only the touch toggle has done anything");
        Assert.That(report.Condition, Is.EqualTo("differs from the state with no patches applied, at checkpoint 'touched'"));
        TestSnapshots.Verify("bisect/fake-workload-touched", BisectRenderer.Render(report));
    }

    [Test]
    public void A_series_too_large_for_the_table_is_delta_debugged_with_few_runs()
    {
        using var clone = new TestClone();
        var series = Of(new Invisible("p1", 1), new Invisible("touch", 2), new Invisible("p3", 3), new Invisible("p4", 4),
            new Invisible("fork", 5), new Invisible("p6", 6));
        var session = Session(clone, series, Workload, "Recorded[\"both\"] == true");
        var report = Bisector.Run("fake/workload", session, new BisectOptions(MaxCombinations: 16));
        TestContext.Out.WriteLine(BisectRenderer.Render(report));
        Assert.That(report.Causes!.Exhaustive, Is.False);
        Assert.That(report.Causes.Causes.Select(c => BisectRenderer.SetLabel(c.Mask, [.. series.Ids])), Is.EqualTo(new[] { "{touch, fork}" }));
        Assert.That(report.Bisection.FirstBad, Is.EqualTo(5));
        Assert.That(report.Effects!.Factorial, Is.False);
        Assert.That(report.Effects.Interactions.Select(i => (series.Patches[i.A].Id, series.Patches[i.B].Id)), Is.EqualTo(new[] { ("touch", "fork") }));
        // ddmin asks about a handful; the effects need the base kernel, the 6 singles and the 15 pairs; the prefixes a few more.
        Assert.That(report.Causes.DeltaDebugTests, Is.LessThan(32), "the base kernel, the singles, the whole series and ddmin's subsets");
        Assert.That(session.Runs, Is.LessThan(40), "of 64");
        Assert.That(BisectRenderer.Render(report), Does.Contain("{touch, fork}: smallest; 1-minimal by ddmin"));
    }

    [Test]
    public void A_combination_that_throws_is_untestable_and_reported()
    {
        using var clone = new TestClone();
        const string script = "Record(\"weight\", Patches.IsApplied(\"touch\") ? 2 : 1);\nif (Patches.IsApplied(\"quiet\") && Patches.IsApplied(\"fork\")) throw new InvalidOperationException(\"boom\");\n";
        var report = Bisector.Run("fake/workload", Session(clone, ThreePatches(), script, "Recorded[\"weight\"] > 1"), new BisectOptions());
        Assert.That(report.Causes!.Untestable, Is.EqualTo(new[] { 5, 7 }));
        Assert.That(report.Bisection.End, Is.EqualTo(BisectEnd.AllUntestable));
        Assert.That(report.Warnings[0], Does.StartWith("cannot test [quiet,fork]: the scenario threw: Scenarios/fake/workload.csx:2: InvalidOperationException: boom"));
        Assert.That(report.Causes.Causes.Single().Mask, Is.EqualTo(2));
    }

    [Test]
    public void Compare_lists_the_differing_metrics_largest_change_first_in_the_0day_shape()
    {
        using var clone = new TestClone();
        var series = ThreePatches();
        var session = Session(clone, series, Workload, null);
        var runs = session.Run([0, series.Parse("touch,fork").Mask]);
        var sections = CompareTable.Build(runs[0].State!, runs[1].State!);
        var end = sections.Single(s => s.Checkpoint == "end");
        Assert.That(end.Rows.Select(r => r.Metric), Does.Contain("process 301 (child).VmRSS"), "a process only in head is a row of its own");
        Assert.That(end.Rows.Where(r => r.Kind == ChangeKind.Percent).Select(r => Math.Abs(r.Percent)), Is.Ordered.Descending);
        Assert.That(end.Rows.Select(r => r.Kind switch { ChangeKind.Added or ChangeKind.Removed => 0, ChangeKind.Absolute => 1, _ => 2 }), Is.Ordered,
            "added/removed first, then from zero, then by percentage");
        TestSnapshots.Verify("compare/fake-workload", CompareTable.Render("fake/workload", "none", "touch,fork", sections));
        Assert.That(CompareTable.Render("fake/workload", "none", "quiet", CompareTable.Build(runs[0].State!, session.Run([1])[0].State!)),
            Does.EndWith("\nno difference: base and head end in the same state\n"));
    }

    [Test]
    public void Check_gives_git_bisect_run_its_exit_codes()
    {
        using var clone = new TestClone();
        string path = clone.Write("Scenarios/fake/workload.csx", Workload);
        var series = ThreePatches();
        CheckOutcome Check(string patches, string? where, string? file = null, string? checkpoint = null) =>
            BisectCheck.Run(clone.Repo, series, file ?? path, patches, where, checkpoint, RunLimits.Default);

        Assert.That(Check("touch,fork", "Recorded[\"weight\"] >= 6").Result, Is.EqualTo(CheckResult.Bad));
        Assert.That(Check("touch", "Recorded[\"weight\"] >= 6"), Is.EqualTo(new CheckOutcome(CheckResult.Good,
            "good [patches: touch]: Recorded[\"weight\"] >= 6, at any checkpoint: does not hold")));
        Assert.That(Check("quiet", null).Result, Is.EqualTo(CheckResult.Good), "quiet changes nothing");
        Assert.That(Check("fork", null).Message, Is.EqualTo("bad [patches: fork]: differs from the state with no patches applied: differs at 'end'"));
        Assert.That((int)Check("none", "Vmstat[\"nr_fake\"] > 0").Result, Is.EqualTo(128), "a name no combination has is a typo: abort");
        var counting = Of(new AddsCounter("counts", 1, "nr_fake"));
        string plain = clone.Write("Scenarios/fake/plain.csx", "Spawn(\"a\");\n");
        Assert.That((int)BisectCheck.Run(clone.Repo, counting, plain, "none", "Vmstat[\"nr_fake\"] > 0", null, RunLimits.Default).Result, Is.EqualTo(0),
            "a name only a patch adds does not hold without it");

        Assert.That((int)Check("typo", "true").Result, Is.EqualTo(125), "a patch this revision's series lacks cannot be tested");
        Assert.That(Check("all", "true", Path.Combine(clone.Root, "Scenarios/fake/gone.csx")).Result, Is.EqualTo(CheckResult.CannotTest));
        Assert.That(Check("all", "true", checkpoint: "nowhere").Message, Does.Contain("no checkpoint 'nowhere' in this combination (it has: touched, end)"));
        Assert.That(Check("all", "Recorded[\"both\"] > 1").Message, Does.Contain("the expression threw at checkpoint 'end': FormatException: recorded 'both' is 'true', not a number"));
        string broken = clone.Write("Scenarios/fake/broken.csx", "var x = ;\n");
        Assert.That(Check("all", "true", broken).Result, Is.EqualTo(CheckResult.CannotTest), "a scenario that does not compile at this revision");
        string throws = clone.Write("Scenarios/fake/throws.csx", "throw new Exception(\"no\");\n");
        Assert.That(Check("all", "true", throws).Result, Is.EqualTo(CheckResult.CannotTest));

        var abort = Check("all", "Vmstt[\"x\"] > 1");
        Assert.That((int)abort.Result, Is.EqualTo(128), "a bad expression aborts the whole bisection");
        Assert.That(abort.Message, Is.EqualTo("--where:1:1: error CS0103: The name 'Vmstt' does not exist in the current context"));
    }

    [Test]
    public void Shards_partition_the_suite_evenly_and_the_same_way_every_time([Range(1, 6)] int n)
    {
        var repo = RepoLayout.Find(AppContext.BaseDirectory)!;
        var all = repo.Discover([]).Select(f => f.Name).ToList();
        var shards = Enumerable.Range(1, n).Select(i => Shard.Parse($"{i}/{n}").Select(all)).ToList();
        Assert.That(shards.SelectMany(s => s).Order(StringComparer.Ordinal), Is.EqualTo(all.Order(StringComparer.Ordinal)), "the union is the whole suite, each scenario once");
        Assert.That(shards.Max(s => s.Count) - shards.Min(s => s.Count), Is.LessThanOrEqualTo(1));
        Assert.That(Enumerable.Range(1, n).Select(i => Shard.Parse($"{i}/{n}").Select(repo.Discover([]).Select(f => f.Name).ToList())), Is.EqualTo(shards));
        Assert.That(shards.Select((_, i) => Shard.Parse($"{i + 1}/{n}").ChecksOrphans).Count(x => x), Is.EqualTo(1));
    }

    [TestCase("0/2")]
    [TestCase("3/2")]
    [TestCase("1/0")]
    [TestCase("1")]
    [TestCase("a/b")]
    [TestCase("-1/2")]
    public void A_bad_shard_says_what_is_expected(string spec) =>
        Assert.That(() => Shard.Parse(spec), Throws.ArgumentException.With.Message.Contains("expected I/N with 1 <= I <= N"));
}
