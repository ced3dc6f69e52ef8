using KernelMm.Model;
using KernelMm.Model.Boot;

namespace KernelMm.Patches.Tests;

/// <summary>The series as data: order, combinations, --patches parsing, labels, ids, and the boot that applies them.</summary>
public class SeriesTests
{
    private sealed class Fake(string id, int order, List<string>? applied = null) : Patch(id, order, $"title of {id}", "posted", "changes")
    {
        public override void Apply(Kernel k) => applied?.Add(Id);
    }

    private static Series Abc(List<string>? applied = null) =>
        new([new Fake("c", 3, applied), new Fake("a", 1, applied), new Fake("b", 2, applied)], "abc");

    [Test]
    public void PatchesAreInSeriesOrderAndCombinationZeroIsTheBaseKernel()
    {
        var s = Abc();
        Assert.Multiple(() =>
        {
            Assert.That(s.Ids, Is.EqualTo(new[] { "a", "b", "c" }));
            Assert.That(s.Count, Is.EqualTo(3));
            Assert.That(s.CombinationCount, Is.EqualTo(8));
            Assert.That(s.Combinations().Select(c => c.Mask), Is.EqualTo(Enumerable.Range(0, 8)));
            Assert.That(s.Combination(0).Label, Is.EqualTo("none"));
            Assert.That(s.Combination(5).Label, Is.EqualTo("a,c"));
            Assert.That(s.Combination(5).ToString(), Is.EqualTo("a,c"));
            Assert.That(s.Combination(7).Enabled.Select(p => p.Id), Is.EqualTo(new[] { "a", "b", "c" }));
            Assert.That(s.IndexOf("b"), Is.EqualTo(1));
            Assert.That(s.IndexOf("z"), Is.EqualTo(-1));
            Assert.That(s.Name, Is.EqualTo("abc"));
            Assert.That(s.ToString(), Is.EqualTo("abc"));
        });
    }

    [Test]
    public void ParseTakesNoneAllAndIdsInAnyOrder()
    {
        var s = Abc();
        Assert.Multiple(() =>
        {
            Assert.That(s.Parse("none").Mask, Is.Zero);
            Assert.That(s.Parse(" all ").Mask, Is.EqualTo(7));
            Assert.That(s.Parse("c, a").Mask, Is.EqualTo(5));
            Assert.That(s.Parse("b,,b").Mask, Is.EqualTo(2));
            Assert.That(s.Parse(s.Combination(6).Label).Mask, Is.EqualTo(6), "a label parses back");
        });
        Assert.That(() => s.Parse("a,zz"), Throws.ArgumentException.With.Message.EqualTo("no patch 'zz' in the abc series; it has: a, b, c"), "nothing near 'zz' to suggest");
        Assert.That(() => s.Parse("bb"), Throws.ArgumentException.With.Message.EqualTo("no patch 'bb' in the abc series (did you mean b?); it has: a, b, c"));
        Assert.That(() => new Series([], "empty").Parse("x"), Throws.ArgumentException.With.Message.EqualTo("no patch 'x': the series is empty (use 'none' or 'all')"));
        Assert.That(() => Series.Posted.Parse("pt-reclaim"), Throws.ArgumentException.With.Message.EqualTo("patch 'pt-reclaim' is in the upstream series, not the posted one: add --series upstream"));
    }

    [Test]
    public void IsAppliedReadsTheMaskAndRefusesATypo()
    {
        var c = Abc().Combination(2);
        Assert.Multiple(() =>
        {
            Assert.That(c.IsApplied("a"), Is.False);
            Assert.That(c.IsApplied("b"), Is.True);
            Assert.That(c.IsApplied("c"), Is.False);
        });
        Assert.That(() => c.IsApplied("typo"), Throws.ArgumentException.With.Message.StartsWith("no patch 'typo' in the abc series (a, b, c)"));
        Assert.That(() => new Series([], "empty").Combination(0).IsApplied("x"), Throws.ArgumentException.With.Message.StartsWith("no patch 'x': the series is empty"));
        Assert.That(Series.Posted.Combination(Series.Posted.CombinationCount - 1).IsApplied("pt-reclaim"), Is.False, "a patch of the other series is off, not a typo");
    }

    [TestCase(-1)]
    [TestCase(8)]
    public void ACombinationOutsideTheSeriesIsRefused(int mask) =>
        Assert.That(() => Abc().Combination(mask), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains($"combination {mask} of a 3-patch series"));

    [Test]
    public void ASeriesRefusesDuplicatesAndTooManyPatches()
    {
        Assert.That(() => new Series([new Fake("a", 1), new Fake("a", 2)]), Throws.ArgumentException.With.Message.EqualTo("patch id 'a' is used twice in the series"));
        Assert.That(() => new Series([new Fake("a", 1), new Fake("b", 1)]), Throws.ArgumentException.With.Message.EqualTo("series position 1 is taken by a and b"));
        Assert.That(() => new Series(Enumerable.Range(0, 17).Select(i => new Fake($"p{i}", i))), Throws.ArgumentException.With.Message.EqualTo("a series of 17 patches has too many combinations to run (max 16)"));
        Assert.That(new Series(Enumerable.Range(0, 16).Select(i => new Fake($"p{i}", i))).CombinationCount, Is.EqualTo(1 << 16));
    }

    [TestCase("")]
    [TestCase("A")]
    [TestCase("a b")]
    [TestCase("a,b")]
    [TestCase("a&b")]
    [TestCase("!a")]
    public void AnIdWithOperatorsOrCapitalsIsRefused(string id) =>
        Assert.That(() => PatchId.Validate(id), Throws.ArgumentException.With.Message.StartsWith($"patch id '{id}' must be lowercase letters, digits, '-', '_' or '.'"));

    [TestCase("all")]
    [TestCase("none")]
    public void AllAndNoneAreReserved(string id) =>
        Assert.That(() => PatchId.Validate(id), Throws.ArgumentException.With.Message.StartsWith($"patch id '{id}' is reserved"));

    [TestCase("pte-refcount")]
    [TestCase("a_b.9")]
    [TestCase("zswap-z")]
    public void AGoodIdIsKept(string id) => Assert.That(PatchId.Validate(id), Is.EqualTo(id));

    [Test]
    public void BootAppliesTheCombinationsPatchesInSeriesOrderBeforeTheKernelBoots()
    {
        var applied = new List<string>();
        var s = Abc(applied);
        var k = s.Boot(new BootOptions(64L << 20), s.Combination(6));
        Assert.That(applied, Is.EqualTo(new[] { "b", "c" }));
        Assert.That(k.SystemState, Is.EqualTo(Model.Boot.SystemState.SYSTEM_RUNNING));
        Assert.That(() => s.Boot(new BootOptions(64L << 20), Abc().Combination(1)), Throws.ArgumentException.With.Message.StartsWith("the combination belongs to another series"));
    }

    [Test]
    public void TheRegisteredSeriesAreFoundByNameAndByTheirIds()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Series.All.Select(s => s.Name), Is.EqualTo(new[] { "posted", "upstream" }));
            Assert.That(Series.Named(" upstream"), Is.SameAs(Series.Landed));
            Assert.That(Series.Posted.Ids, Is.EqualTo(new[] { "kaiser-nr-overhead", "grouped-pages", "kmem-uncharge-free", "restore-large-pages", "pte-refcount" }));
            Assert.That(Series.Owning("pte-refcount,grouped-pages"), Is.SameAs(Series.Posted));
            Assert.That(Series.Owning("pt-reclaim"), Is.SameAs(Series.Landed));
            Assert.That(Series.Owning("none"), Is.Null);
            Assert.That(Series.Owning("pte-refcount,pt-reclaim"), Is.Null, "no one series has both");
            Assert.That(Series.Owning(""), Is.Null);
            Assert.That(Series.Posted.ElsewhereHas("pt-reclaim"), Is.SameAs(Series.Landed));
            Assert.That(Series.Posted.ElsewhereHas("pte-refcount"), Is.Null);
        });
        Assert.That(() => Series.Named("nope"), Throws.ArgumentException.With.Message.EqualTo("no series 'nope' (there are: posted, upstream)"));
    }

    /// <summary>Each patch says which upstream patch it is: its title is the subject it was posted with (shared/seeds).</summary>
    [Test]
    public void EveryPostedPatchCarriesItsUpstreamSubject()
    {
        var titles = Fresh(Series.Posted).ToDictionary(p => p.Id, p => p.Title);
        Assert.Multiple(() =>
        {
            Assert.That(titles["kaiser-nr-overhead"], Is.EqualTo("kaiser: vmstat show NR_KAISERTABLE as nr_overhead"));
            Assert.That(titles["grouped-pages"], Is.EqualTo("x86/mm/cpa: Add grouped page allocations"));
            Assert.That(titles["kmem-uncharge-free"], Is.EqualTo("mm: uncharge kmem pages from generic free_page path"));
            Assert.That(titles["restore-large-pages"], Is.EqualTo("x86/mm/pat: Restore large pages after fragmentation"));
            Assert.That(titles["pte-refcount"], Is.EqualTo("mm: introduce pte_refcount for user PTE page table page"));
            foreach (var p in Fresh(Series.Posted))
            {
                Assert.That(p.Posted, Does.Contain("20"), $"{p.Id}: where and when it was posted");
                Assert.That(p.Changes, Is.Not.Empty, $"{p.Id}: what it changes");
                Assert.That(p.ToString(), Is.EqualTo($"{p.Order} {p.Id}: {p.Title}"));
            }
        });
    }

    /// <summary>Each upstream patch names the release, the commit and the posting it descends from.</summary>
    [Test]
    public void EveryUpstreamPatchNamesItsReleaseCommitAndPosting()
    {
        var landed = Fresh(Series.Landed).Cast<Descendant>().ToDictionary(p => p.Id);
        Assert.Multiple(() =>
        {
            Assert.That(landed["kmemcg-page-alloc"].Title, Is.EqualTo("mm: charge/uncharge kmemcg from generic page allocator paths"));
            Assert.That(landed["pt-reclaim"].Title, Is.EqualTo("mm: pgtable: reclaim empty PTE page in madvise(MADV_DONTNEED)"));
            Assert.That(landed["collapse-large-pages"].Title, Is.EqualTo("x86/mm/pat: restore large ROX pages after fragmentation"));
            Assert.That(landed.Values.Select(d => (d.Id, d.Of)), Is.EqualTo(new[]
            {
                ("kmemcg-page-alloc", "kmem-uncharge-free"), ("pt-reclaim", "pte-refcount"), ("collapse-large-pages", "restore-large-pages"),
            }));
            foreach (var d in landed.Values)
            {
                Assert.That(d.Merged, Does.Match(@"^v\d+\.\d+$"), $"{d.Id}: the release");
                Assert.That(d.Commit, Does.Match("^[0-9a-f]{12}( |$)"), $"{d.Id}: the commit");
                Assert.That(d.Posted, Is.EqualTo($"merged in {d.Merged}, commit {d.Commit}"));
                Assert.That(d.Changes, Is.Not.Empty, $"{d.Id}: what it changes");
            }
        });
    }

    [Test]
    public void AListWithAnIdOfNoSeriesOrSpacesIsResolvedAsTheCliWritesIt()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Series.Owning("pte-refcount,typo"), Is.Null, "the typo is reported by the series that parses it");
            Assert.That(Series.Owning("kaiser-nr-overhead"), Is.SameAs(Series.Posted), "the first patch of its series");
            Assert.That(Series.Owning("pte-refcount, grouped-pages"), Is.SameAs(Series.Posted));
            Assert.That(Series.Landed.ElsewhereHas("kaiser-nr-overhead"), Is.SameAs(Series.Posted));
        });
    }

    // New objects, as each patch type constructs itself: Series.Posted and Series.Landed are built once per process.
    private static IEnumerable<IPatch> Fresh(Series s) => s.Patches.Select(p => (IPatch)Activator.CreateInstance(p.GetType())!).ToList();
}
