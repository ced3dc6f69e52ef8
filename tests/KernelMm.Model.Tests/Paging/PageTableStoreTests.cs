using KernelMm.Model.Paging;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Model.Tests.Paging;

/// <summary>
/// The zap's steps on a table's entries, sparse (up to six kept) and full (a 512-entry array):
/// ptep_get_and_clear and the clear-the-next-used step read and clear exactly what a read and
/// a write of 0 would, keep the count of non-none entries, and tell the PTE cache.
/// </summary>
public class PageTableStoreTests
{
    private const ulong Pte = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER;

    private static ulong Entry(int i) => ((ulong)(0x1000 + i) << 12) | Pte;

    /// <summary>A table with entries at <paramref name="indexes"/>: sparse for up to 6, full beyond.</summary>
    private static (PageTableStore Store, PageTable Table) TableWith(params int[] indexes)
    {
        var store = new PageTableStore();
        var t = store.Create(0x100);
        foreach (int i in indexes)
            t[i] = Entry(i);
        return (store, t);
    }

    [TestCase(new[] { 3, 9, 400 }, TestName = "sparse")]
    [TestCase(new[] { 0, 1, 2, 3, 9, 100, 400, 511 }, TestName = "full")]
    public void GetAndClearReturnsTheEntryAndLeavesItNone(int[] indexes)
    {
        var (store, t) = TableWith(indexes);
        int gen = store.Generation;
        Assert.Multiple(() =>
        {
            Assert.That(t.GetAndClear(9), Is.EqualTo(Entry(9)));
            Assert.That(t[9], Is.Zero);
            Assert.That(store.Generation, Is.Not.EqualTo(gen), "a present entry went away: the PTE cache must forget");
            Assert.That(t.GetAndClear(9), Is.Zero, "a none entry reads as none and stays so");
            Assert.That(t.GetAndClear(5), Is.Zero);
            Assert.That(t.NextUsed(4), Is.EqualTo(indexes.First(i => i > 9)), "the count of non-none entries followed");
            Assert.That(t[400], Is.EqualTo(Entry(400)), "the others are untouched");
        });
    }

    [TestCase(new[] { 3, 9, 400 }, TestName = "sparse")]
    [TestCase(new[] { 0, 1, 2, 3, 9, 100, 400, 511 }, TestName = "full")]
    public void ClearNextUsedWalksAndClearsOnlyTheRange(int[] indexes)
    {
        var (_, t) = TableWith(indexes);
        var seen = new List<(int, ulong)>();
        for (int i = t.ClearNextUsed(2, 400, out ulong old); i <= 400; i = t.ClearNextUsed(i + 1, 400, out old))
            seen.Add((i, old));
        var expected = indexes.Where(i => i >= 2 && i <= 400).Select(i => (i, Entry(i))).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(seen, Is.EqualTo(expected));
            Assert.That(expected.All(e => t[e.i] == 0), Is.True, "every entry it returned is none now");
            Assert.That(indexes.Where(i => i < 2 || i > 400).All(i => t[i] == Entry(i)), Is.True, "entries outside the range stay");
            Assert.That(t.ClearNextUsed(2, 400, out ulong none), Is.EqualTo(512));
            Assert.That(none, Is.Zero);
        });
    }

    [Test]
    public void ATableEmptiedByClearsCountsNothing()
    {
        var (_, t) = TableWith(Enumerable.Range(0, 512).ToArray());
        for (int i = t.ClearNextUsed(0, 511, out _); i <= 511; i = t.ClearNextUsed(i + 1, 511, out _))
        {
        }
        Assert.That(t.NextUsed(0), Is.EqualTo(512));
    }
}
