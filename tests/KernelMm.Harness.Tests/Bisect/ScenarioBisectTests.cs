using KernelMm.Harness.Bisect;
using KernelMm.Harness.Compilation;
using KernelMm.Harness.Matrix;
using KernelMm.Harness.Repo;
using KernelMm.Patches;

namespace KernelMm.Harness.Tests.Bisect;

/// <summary>
/// Bisection on the committed scenarios, whose answers the verified snapshots give: one per
/// patch of the series, and one that needs two patches together. The expressions are read off
/// the snapshots (Snapshots/...): each holds exactly in the outcomes the patch creates.
/// </summary>
public class ScenarioBisectTests
{
    private static readonly RepoLayout Repo = RepoLayout.Find(AppContext.BaseDirectory)
        ?? throw new InvalidOperationException("not inside the clone");

    private static readonly ScenarioCompiler Compiler = new(Repo.CacheDir, p => Repo.Describe(p).DisplayPath);

    private static IReadOnlyList<string> Ids => [.. Series.Posted.Ids];

    internal static BisectSession Session(string scenario, string? where, string? checkpoint = null)
    {
        var file = Repo.Describe(Path.Combine(Repo.ScenariosDir, scenario + ".csx"));
        var compiled = Compiler.Compile(file);
        Assert.That(compiled.Succeeded, string.Join("\n", compiled.Errors));
        Condition condition;
        if (where is null)
        {
            condition = new DiffersCondition(checkpoint);
        }
        else
        {
            var (expression, errors) = WhereExpression.Compile(where, Repo.CacheDir);
            Assert.That(expression, Is.Not.Null, string.Join("\n", errors));
            condition = new WhereCondition(expression!, checkpoint);
        }
        return BisectSession.For(compiled.Scenario!, Series.Posted, condition, RunLimits.Default, p => Repo.Describe(p).DisplayPath);
    }

    private static BisectReport Bisect(string scenario, string? where, string? checkpoint = null, BisectOptions? options = null)
    {
        var report = Bisector.Run(scenario, Session(scenario, where, checkpoint), options ?? new BisectOptions());
        TestContext.Out.WriteLine(BisectRenderer.Render(report));
        return report;
    }

    private static int Mask(params string[] ids) => ids.Aggregate(0, (m, id) => m | (1 << Series.Posted.IndexOf(id)));

    private static void AssertFirstBad(BisectReport r, string id)
    {
        Assert.That(r.Bisection.End, Is.EqualTo(BisectEnd.Found));
        Assert.That(r.Bisection.FirstBad, Is.EqualTo(Series.Posted.IndexOf(id) + 1), "first bad prefix");
    }

    private static void AssertOnlyCause(BisectReport r, params string[] ids)
    {
        Assert.That(r.Causes!.Causes.Select(c => BisectRenderer.SetLabel(c.Mask, Ids)), Is.EqualTo(new[] { BisectRenderer.SetLabel(Mask(ids), Ids) }));
        Assert.That(r.Causes.Causes[0].Necessary, Is.True, "every bad combination applies it");
        Assert.That(r.Causes.Causes[0].Sufficient, Is.True, "every combination applying it is bad");
    }

    [Test]
    public void Kaiser_nr_overhead_above_256_is_kaiser_nr_overhead()
    {
        var r = Bisect("kaiser/large-ldts", "Vmstat[\"nr_overhead\"] > 256");
        AssertFirstBad(r, "kaiser-nr-overhead");
        AssertOnlyCause(r, "kaiser-nr-overhead");
        Assert.That(r.Causes!.BadFormula, Is.EqualTo("kaiser-nr-overhead"));
        Assert.That(r.Runs, Is.EqualTo(32));
        Assert.That(r.Warnings, Is.Empty, "a counter missing where the patch is not applied is not a typo: it exists somewhere");
        Assert.That(r.Effects!.Presence.Select(p => (p.Metric, p.Where)),
            Does.Contain(("32 large LDTs: vmstat.nr_overhead", "kaiser-nr-overhead")));
    }

    [Test]
    public void Quick_bisection_runs_only_the_prefixes_it_tests()
    {
        var r = Bisect("kaiser/overhead-fork-exit-storms", "Vmstat[\"nr_overhead\"] > 256", options: new BisectOptions(Quick: true));
        AssertFirstBad(r, "kaiser-nr-overhead");
        Assert.That(r.Causes, Is.Null);
        Assert.That(r.Effects, Is.Null);
        // none, all, then [1-2] and [1]: git bisect's steps over 5 patches.
        Assert.That(r.Runs, Is.EqualTo(4));
        Assert.That(r.Bisection.Steps.Select(s => (s.Prefix, s.Verdict)), Is.EqualTo(new[] { (2, Verdict.Bad), (1, Verdict.Bad) }));
    }

    [Test]
    public void Grouped_pages_keeps_the_direct_map_large_and_interacts_with_restore_large_pages()
    {
        var r = Bisect("grouped-pages/shrinker-after-free", "Meminfo[\"DirectMap4k\"] < 10240");
        AssertFirstBad(r, "grouped-pages");
        AssertOnlyCause(r, "grouped-pages");
        // restore-large-pages frees the split tables (MemFree +16 kB) only where grouped pages did not avoid the splits.
        var pair = r.Effects!.Interactions.Single(i => i.A == Series.Posted.IndexOf("grouped-pages") && i.B == Series.Posted.IndexOf("restore-large-pages"));
        var memFree = pair.Metrics.Single(m => m.Metric == "end: meminfo.MemFree");
        Assert.That((memFree.With, memFree.Without), Is.EqualTo((0.0, 16.0)));
    }

    [Test]
    public void Restore_large_pages_directmap_drift_shows_in_the_warnings()
    {
        // The RFC's collapse never calls update_page_count: the DirectMap invariant's findings.
        // (grouped-pages has no warning of its own here: its shrinker stops at once, so nothing leaks.)
        var r = Bisect("grouped-pages/shrinker-after-free", "Warnings.Any(w => w.StartsWith(\"invariant directmap\"))", checkpoint: "end");
        AssertFirstBad(r, "restore-large-pages");
        AssertOnlyCause(r, "restore-large-pages");
    }

    [Test]
    public void Restore_large_pages_frees_the_split_tables()
    {
        var r = Bisect("restore-large-pages/undo-restores-large-pages", "Events[\"pgfree\"] > 0", checkpoint: "end");
        AssertFirstBad(r, "restore-large-pages");
        AssertOnlyCause(r, "restore-large-pages");
        Assert.That(r.Condition, Is.EqualTo("Events[\"pgfree\"] > 0, at checkpoint 'end'"));
    }

    [Test]
    public void Pte_refcount_brings_vm_free_ptes()
    {
        var r = Bisect("pte-refcount/partial-tables", "Recorded[\"vm.free_ptes written\"] == true");
        AssertFirstBad(r, "pte-refcount");
        AssertOnlyCause(r, "pte-refcount");
    }

    // memory.stat pagetables drops with pte-refcount alone (the destructor runs whether or
    // not the kmem charge comes back): the uncharge shows in the kmem counter.
    [TestCase("Recorded[\"after free_ptes: kmem bytes\"] < 176128")]
    [TestCase("Memcg[\"vm\"].KmemUsage < 176128")]
    [TestCase("Meminfo[\"MemFree\"] > 4099356")]
    public void Freed_ptes_uncharge_only_with_kmem_uncharge_free_and_pte_refcount_together(string where)
    {
        var r = Bisect("kmem/free-ptes-uncharge", where);
        // In series order the behaviour appears with the last patch, pte-refcount ...
        AssertFirstBad(r, "pte-refcount");
        // ... but it needs both: neither alone shows it, both together always do.
        AssertOnlyCause(r, "kmem-uncharge-free", "pte-refcount");
        Assert.That(r.Causes!.BadFormula, Is.EqualTo("kmem-uncharge-free & pte-refcount"));
        Assert.That(r.Causes.NecessaryPatches.Select(i => Ids[i]), Is.EqualTo(new[] { "kmem-uncharge-free", "pte-refcount" }));
        var pair = r.Effects!.Interactions.Single(i => Ids[i.A] == "kmem-uncharge-free" && Ids[i.B] == "pte-refcount");
        var memFree = pair.Metrics.Single(m => m.Metric == "meminfo.MemFree");
        Assert.That((memFree.With, memFree.Without), Is.EqualTo((128.0, 0.0)), "pte-refcount frees 32 tables, which return to MemFree only when uncharged");
        Assert.That(r.Effects.Interactions, Has.Count.EqualTo(1));
    }

    [Test]
    public void Without_where_the_behaviour_is_any_difference_from_the_base_kernel()
    {
        var r = Bisect("kmem/free-ptes-uncharge", null);
        AssertFirstBad(r, "kaiser-nr-overhead");
        Assert.That(r.Condition, Is.EqualTo("differs from the state with no patches applied"));
        Assert.That(r.Causes!.BadFormula, Is.EqualTo("kaiser-nr-overhead | pte-refcount"));
        Assert.That(r.Causes.Causes.Select(c => BisectRenderer.SetLabel(c.Mask, Ids)),
            Is.EqualTo(new[] { "{kaiser-nr-overhead}", "{pte-refcount}" }));
        Assert.That(r.Causes.Causes.Select(c => (c.Sufficient, c.Necessary, c.BadWithout)), Has.All.EqualTo((true, false, 8)));
        Assert.That(r.Causes.NecessaryPatches, Is.Empty);
    }

    [Test]
    public void A_name_missing_from_every_combination_is_reported_as_the_likely_typo_it_is()
    {
        var r = Bisect("restore-large-pages/tlb-ordering", "Vmstat[\"nr_overhaed\"] > 0");
        Assert.That(r.Bisection.End, Is.EqualTo(BisectEnd.NeverBad));
        Assert.That(r.Warnings.Single(), Does.Contain("/proc/vmstat has no 'nr_overhaed' here"));
        Assert.That(r.Causes!.Causes, Is.Empty);
    }

    [Test]
    public void A_checkpoint_limits_the_judgement_to_it()
    {
        var any = Bisect("pte-refcount/partial-tables", "Events[\"pgfree\"] > 512");
        var early = Bisect("pte-refcount/partial-tables", "Events[\"pgfree\"] > 512", checkpoint: "three tables");
        Assert.That(any.Causes!.BadFormula, Is.EqualTo("pte-refcount"));
        Assert.That(early.Bisection.End, Is.EqualTo(BisectEnd.NeverBad), "free_ptes runs after the first checkpoint");
        Assert.That(early.Causes!.Bad, Is.Empty);
    }
}
