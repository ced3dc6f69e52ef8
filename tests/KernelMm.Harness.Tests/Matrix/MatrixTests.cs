using KernelMm.Harness.Scripting;
using KernelMm.Harness.Suite;
using KernelMm.Patches;
using static KernelMm.Harness.Tests.Fakes.FakePatches;

namespace KernelMm.Harness.Tests.Matrix;

/// <summary>Every combination on its own kernel with its patches applied; grouped, labelled, deterministic.</summary>
public class MatrixTests
{
    private const string Modules = """
        // Load and unload a few modules: CPA on the text and its direct-map alias.
        var mods = new List<ScriptModule>();
        for (int i = 0; i < 6; i++)
            mods.Add(Kernel.LoadModule(Random.Long(1, 20) * 4096, 8192));
        Checkpoint("loaded");
        foreach (var m in mods)
            m.Unload();
        """;

    [Test]
    public void A_patch_that_adds_a_counter_splits_the_outcomes_by_its_toggle()
    {
        using var clone = new TestClone();
        var series = Of(new Invisible("quiet", 1), new AddsCounter("counter", 2, "nr_fake_pages"));
        var report = clone.Runner(series).Run(clone.Scenario("Scenarios/m.csx", Modules));
        Assert.That(report.Status, Is.EqualTo(ScenarioStatus.New), string.Join("\n", report.Problems()));
        Assert.That(report.Outcomes.Select(o => o.Formula), Is.EqualTo(new[] { "!counter", "counter" }));
        Assert.That(report.Outcomes[0].Combinations, Is.EqualTo(new[] { 0, 1 }));
        Assert.That(report.Outcomes[0].State, Does.Not.Contain("nr_fake_pages"));
        Assert.That(report.Outcomes[1].State, Does.Match(@"\nnr_kernel_stack \d+\nnr_fake_pages 0\n"));
        Assert.That(report.Snapshot, Does.StartWith(
            "scenario: m\nseries: quiet counter\ncombinations: 4\noutcomes: 2\n  1: !counter (2 combinations)\n  2: counter (2 combinations)\n\n"
            + "## shared by all outcomes\n### checkpoint: loaded\n#### vmstat: lines all outcomes share\n"));
        // What the counter adds is all that outcome 2 prints: the line and where it goes, then
        // at the end the counter that moved since (the added line carries over).
        Assert.That(report.Snapshot, Does.Match(
            @"\n## outcome 1 of 2: !counter \(2 combinations\)\n\(nothing beyond the shared part\)\n\n## outcome 2 of 2: counter \(2 combinations\)\n"
            + @"### checkpoint: loaded\n#### vmstat: the shared lines and:\n@@ -3,0 \+4 @@\n\+nr_fake_pages 0\n"
            + @"### checkpoint: end\n#### vmstat: as at checkpoint 'loaded', except:\nnr_free_pages \d+\n$"));
    }

    [Test]
    public void A_hook_shows_only_when_the_scenario_exercises_it()
    {
        using var clone = new TestClone();
        var series = Of(new MarksFourK("mark4k", 1));
        var idle = clone.Runner(series).Run(clone.Scenario("Scenarios/idle.csx", "Record(\"free\", Kernel.Vmstat[\"nr_free_pages\"]);\n"));
        Assert.That(idle.Outcomes.Select(o => o.Formula), Is.EqualTo(new[] { "all" }));

        var split = clone.Runner(series).Run(clone.Scenario("Scenarios/split.csx",
            "var pfn = Kernel.AllocPages(0);\nKernel.SetMemory.FourK(Kernel.DirectMapAddress(pfn), 1);\n"));
        Assert.That(split.Outcomes.Select(o => o.Formula), Is.EqualTo(new[] { "!mark4k", "mark4k" }));
    }

    [Test]
    public void A_cpa_flush_hook_sees_every_flush()
    {
        using var clone = new TestClone();
        var series = Of(new CountsCpaFlushes("count-flushes", 1));
        var report = clone.Runner(series).Run(clone.Scenario("Scenarios/m.csx", Modules + "\nRecord(\"flushes\", Kernel.Vmstat.Has(\"nr_cpa_flushes\") ? Kernel.Vmstat[\"nr_cpa_flushes\"] : -1);\n"));
        Assert.That(report.Outcomes, Has.Count.EqualTo(2), string.Join("\n", report.Problems()));
        Assert.That(report.Outcomes[0].State, Does.Contain("flushes = -1\n"));
        Assert.That(report.Outcomes[1].State, Does.Match(@"flushes = [1-9]\d*\n"));
    }

    [Test]
    public void Patches_are_applied_in_series_order_whatever_the_registration_order()
    {
        var series = Of(new AddsCounter("second", 2, "nr_second"), new AddsCounter("first", 1, "nr_first"));
        Assert.That(series.Ids, Is.EqualTo(new[] { "first", "second" }));
        var k = series.Boot(new KernelMm.Model.Boot.BootOptions(), series.Parse("all"));
        // Both register after nr_kernel_stack, and extra counters print in registration order:
        // nr_first before nr_second only if "first" was applied first.
        var names = k.VmStat.Lines().Select(l => l.Name).ToList();
        Assert.That(names.IndexOf("nr_first"), Is.GreaterThan(0));
        Assert.That(names.IndexOf("nr_first"), Is.LessThan(names.IndexOf("nr_second")));
    }

    [Test]
    public void The_snapshot_is_the_same_serial_or_parallel_and_run_after_run()
    {
        using var clone = new TestClone();
        var series = Of(new Invisible("a", 1), new AddsCounter("b", 2, "nr_b"), new CountsCpaFlushes("c", 3));
        var file = clone.Scenario("Scenarios/m.csx", Modules + "\nRecord(\"r\", Random.Int(0, 1_000_000));\nRecord(\"f\", Faker.Random.Int(0, 1_000_000));\n");
        string parallel = clone.Runner(series).Run(file).Snapshot!;
        string serial = clone.Runner(series, maxParallel: 1).Run(file).Snapshot!;
        string again = clone.Runner(series).Run(file).Snapshot!;
        Assert.That(serial, Is.EqualTo(parallel));
        Assert.That(again, Is.EqualTo(parallel));
        Assert.That(parallel, Does.Contain("outcomes: 4\n"));
        Assert.That(parallel, Does.Contain("## outcome 1 of 4: !b & !c (2 combinations)"));
    }

    [Test]
    public void Show_runs_one_combination_to_the_state_its_outcome_has()
    {
        using var clone = new TestClone();
        var series = Of(new Invisible("a", 1), new AddsCounter("b", 2, "nr_b"));
        var file = clone.Scenario("Scenarios/m.csx", Modules);
        var report = clone.Runner(series).Run(file);
        var (compile, result) = clone.Runner(series).Show(file, series.Parse("a,b"));
        Assert.That(compile.Succeeded, Is.True);
        Assert.That(result!.State, Is.EqualTo(report.Outcomes.Single(o => o.Combinations.Contains(3)).State));
    }

    [Test]
    public void Random_is_seeded_from_a_stable_hash_of_the_scenario_name()
    {
        Assert.That(ScenarioRun.SeedOf("modules/module-churn"), Is.EqualTo(-814123614));
        Assert.That(ScenarioRun.SeedOf("a"), Is.Not.EqualTo(ScenarioRun.SeedOf("b")));
    }

    [Test]
    public void The_end_is_not_captured_twice_when_the_script_ends_on_a_checkpoint()
    {
        using var clone = new TestClone();
        var report = clone.Runner().Run(clone.Scenario("Scenarios/e.csx", "Kernel.AllocPages(0);\nCheckpoint(\"last\");\n"));
        Assert.That(report.Snapshot, Does.Contain("### checkpoint: last\n"));
        Assert.That(report.Snapshot, Does.Not.Contain("### checkpoint: end\n"));
    }

    [Test]
    public void Records_go_to_the_next_checkpoint_in_invariant_format()
    {
        using var clone = new TestClone();
        var report = clone.Runner().Run(clone.Scenario("Scenarios/r.csx",
            "Record(\"x\", 1.5);\nRecord(\"yes\", true);\nCheckpoint(\"one\");\nRecord(\"addr\", $\"0x{Kernel.DirectMapAddress(1):x}\");\n"));
        string s = report.Snapshot!;
        int one = s.IndexOf("### checkpoint: one", StringComparison.Ordinal), end = s.IndexOf("### checkpoint: end", StringComparison.Ordinal);
        Assert.That(s.IndexOf("x = 1.5\nyes = true\n", StringComparison.Ordinal), Is.InRange(one, end));
        Assert.That(s.IndexOf("addr = 0xffff888000001000\n", StringComparison.Ordinal), Is.GreaterThan(end));
    }

    [Test]
    public void Patches_IsApplied_rejects_an_unknown_id()
    {
        using var clone = new TestClone();
        var report = clone.Runner(Of(new Invisible("real", 1))).Run(clone.Scenario("Scenarios/t.csx", "Record(\"t\", Patches.IsApplied(\"typo\"));\n"));
        Assert.That(report.Status, Is.EqualTo(ScenarioStatus.Threw));
        Assert.That(report.Results[0].Failure!.Message, Does.Contain("no patch 'typo'"));
    }

    [Test]
    public void A_series_parses_combinations()
    {
        var series = Of(new Invisible("a", 1), new Invisible("b", 2));
        Assert.That(series.Parse("none").Mask, Is.EqualTo(0));
        Assert.That(series.Parse("all").Mask, Is.EqualTo(3));
        Assert.That(series.Parse("b").Label, Is.EqualTo("b"));
        Assert.That(series.Parse("b,a").Label, Is.EqualTo("a,b"));
        Assert.Throws<ArgumentException>(() => series.Parse("c"));
        Assert.Throws<ArgumentException>(() => Of(new Invisible("a", 1), new Invisible("a", 2)));
        Assert.Throws<ArgumentException>(() => Of(new Invisible("a", 1), new Invisible("b", 1)));
        Assert.Throws<ArgumentException>(() => new Invisible("Bad Id", 1));
    }

    [Test]
    public void The_upstream_series_boots_its_combinations()
    {
        var series = Series.Posted;
        Assert.That(series.CombinationCount, Is.EqualTo(1 << series.Count));
        Assert.That(series.Patches.Select(p => p.Order), Is.Ordered.Ascending);
        Assert.That(series.Patches, Has.All.Matches<IPatch>(p => p!.Title.Length > 0 && p.Posted.Length > 0 && p.Changes.Length > 0));
    }
}
