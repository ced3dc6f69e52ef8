namespace KernelMm.Patches.Tests;

/// <summary>The two registered series: their names, their ids kept apart, and the lookups the CLI makes.</summary>
public class SeriesTests
{
    [Test]
    public void TwoSeriesThePostedOneFirst()
    {
        Assert.That(Series.All.Select(s => s.Name), Is.EqualTo(new[] { "posted", "upstream" }));
        Assert.That(Series.Named(" upstream "), Is.SameAs(Series.Landed));
        Assert.That(() => Series.Named("merged"), Throws.ArgumentException.With.Message.EqualTo("no series 'merged' (there are: posted, upstream)"));
    }

    [Test]
    public void EveryUpstreamPatchDescendsFromAPostedOne()
    {
        Assert.That(Series.Landed.Patches, Is.All.InstanceOf<Descendant>());
        foreach (var d in Series.Landed.Patches.Cast<Descendant>())
            Assert.That(Series.Posted.IndexOf(d.Of), Is.GreaterThanOrEqualTo(0), $"{d.Id} descends from {d.Of}");
        Assert.That(Series.Posted.Ids.Intersect(Series.Landed.Ids), Is.Empty, "an id names one patch whichever series is chosen");
    }

    [Test]
    public void AnIdOfTheOtherSeriesSaysWhereItIs()
    {
        Assert.That(() => Series.Posted.Parse("pt-reclaim"),
            Throws.ArgumentException.With.Message.EqualTo("patch 'pt-reclaim' is in the upstream series, not the posted one: add --series upstream"));
        Assert.That(Series.Posted.ElsewhereHas("pt-reclaim"), Is.SameAs(Series.Landed));
        Assert.That(Series.Posted.ElsewhereHas("pte-refcount"), Is.Null, "its own");
    }

    [Test]
    public void OwningPicksTheOnlySeriesThatHasEveryId()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Series.Owning("pte-refcount,kaiser-nr-overhead"), Is.SameAs(Series.Posted));
            Assert.That(Series.Owning("pt-reclaim"), Is.SameAs(Series.Landed));
            Assert.That(Series.Owning("none"), Is.Null);
            Assert.That(Series.Owning("all"), Is.Null);
            Assert.That(Series.Owning("pt-reclaim,pte-refcount"), Is.Null, "no one series has both");
        });
    }

    [Test]
    public void APatchOfTheOtherSeriesIsNotAppliedAndATypoStillThrows()
    {
        var all = Series.Landed.Parse("all");
        Assert.That(all.IsApplied("pte-refcount"), Is.False);
        Assert.That(all.IsApplied("pt-reclaim"), Is.True);
        Assert.That(() => all.IsApplied("pt-reclaimm"), Throws.ArgumentException.With.Message.StartsWith("no patch 'pt-reclaimm' in the upstream series"));
    }
}
