using KernelMm.Model.Paging;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Model.Tests.Paging;

/// <summary>
/// The zap's steps on a table's entries, sparse (up to six kept) and full (a 512-entry array):
/// ptep_get_and_clear and the clear-the-next-used step read and clear exactly what a read and
/// a write of 0 would, keep the count of non-none entries, and tell the PTE cache. And every
/// other path: a table reads as a 512-entry array whatever the store keeps (sparse, the step to
/// a full array, freed and reused frames, a split's WriteAll).
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

    private const ulong Present = _PAGE_PRESENT | _PAGE_RW;

    private static void AssertReadsAs(PageTable t, ulong[] expected)
    {
        var got = new ulong[512];
        for (int i = 0; i < 512; i++)
            got[i] = t[i];
        int used = expected.Count(v => v != 0);
        Assert.Multiple(() =>
        {
            Assert.That(got, Is.EqualTo(expected));
            Assert.That(t.UsedEntries, Is.EqualTo(used));
            Assert.That(t.CountNonNone(), Is.EqualTo(used));
            int next = Array.FindIndex(expected, v => v != 0);
            Assert.That(t.NextUsed(0), Is.EqualTo(next < 0 ? 512 : next));
        });
    }

    /// <summary>Random writes, clears and rewrites across the sparse limit, against a plain array.</summary>
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void ATableReadsAsWhatWasLastWrittenToIt(int seed)
    {
        var store = new PageTableStore();
        var t = store.Create(0x100);
        var model = new ulong[512];
        var rng = new Random(seed);
        for (int step = 0; step < 400; step++)
        {
            // Few distinct indices, so the table goes back and forth around SparseCapacity.
            int i = rng.Next(step < 200 ? 10 : 512);
            ulong v = rng.Next(3) == 0 ? 0 : ((ulong)rng.Next(1, 1 << 20) << 12) | Present;
            t[i] = v;
            model[i] = v;
            Assert.That(t[i], Is.EqualTo(v), $"step {step}");
            Assert.That(t.UsedEntries, Is.EqualTo(model.Count(x => x != 0)), $"step {step}");
            int from = rng.Next(512);
            int next = Array.FindIndex(model, from, x => x != 0);
            Assert.That(t.NextUsed(from), Is.EqualTo(next < 0 ? 512 : next), $"step {step}, NextUsed({from})");
        }
        AssertReadsAs(t, model);
    }

    [Test]
    public void ASparseTableKeepsItsEntriesInIndexOrderUpToItsCapacity()
    {
        var store = new PageTableStore();
        var t = store.Create(7);
        var model = new ulong[512];
        int[] order = [300, 5, 511, 0, 42, 41];
        foreach (int i in order)
        {
            model[i] = ((ulong)i << 12) | Present;
            t[i] = model[i];
        }
        Assert.That(order, Has.Length.EqualTo(PageTableStore.SparseCapacity));
        AssertReadsAs(t, model);
        Assert.Multiple(() =>
        {
            Assert.That(t.NextUsed(1), Is.EqualTo(5));
            Assert.That(t.NextUsed(42), Is.EqualTo(42));
            Assert.That(t.NextUsed(43), Is.EqualTo(300));
            Assert.That(t.NextUsed(512), Is.EqualTo(512));
            Assert.That(t.NextUsed(-5), Is.EqualTo(0));
        });
        // Clearing the middle one closes the gap; clearing a none entry changes nothing.
        t[41] = 0;
        model[41] = 0;
        t[40] = 0;
        AssertReadsAs(t, model);
        Assert.That(t.NextUsed(6), Is.EqualTo(42));
        // Two more entries: the seventh makes it a full array, which must keep them all.
        t[100] = model[100] = 0x5000 | Present;
        t[1] = model[1] = 0x6000 | Present;
        AssertReadsAs(t, model);
        Assert.That(t.NextUsed(2), Is.EqualTo(5));
        t[511] = model[511] = 0;
        t[0] = model[0] = 0;
        AssertReadsAs(t, model);
        Assert.That(t.NextUsed(301), Is.EqualTo(512));
    }

    [Test]
    public void AFreedFrameIsNoTableAndItsSlotComesBackEmpty()
    {
        var store = new PageTableStore();
        var a = store.Create(0x10);
        for (int i = 0; i < 20; i++)
            a[i] = 0x1000 | Present; // a full array
        store.Create(0x2000);
        Assert.Multiple(() =>
        {
            Assert.That(store.Count, Is.EqualTo(2));
            Assert.That(store.IsTable(0x10), Is.True);
            Assert.That(store.Frames(), Is.EqualTo(new long[] { 0x10, 0x2000 }), "in pfn order");
        });
        store.Remove(0x10);
        store.Remove(0x10); // twice: nothing more to do
        store.Remove(0x7fff_ffff); // past the directory
        Assert.Multiple(() =>
        {
            Assert.That(store.Count, Is.EqualTo(1));
            Assert.That(store.IsTable(0x10), Is.False);
            Assert.That(store.TryGet(0x10, out _), Is.False);
            Assert.Throws<InvalidOperationException>(() => _ = store[0x10]);
            Assert.That(store.Frames(), Is.EqualTo(new long[] { 0x2000 }));
        });
        // The next table takes the freed slot and the pooled array: both must read as none.
        var b = store.Create(0x11);
        Assert.That(b.Pfn, Is.EqualTo(0x11));
        AssertReadsAs(b, new ulong[512]);
        for (int i = 0; i < 8; i++)
            b[i * 3] = 0x3000 | Present;
        var model = new ulong[512];
        for (int i = 0; i < 8; i++)
            model[i * 3] = 0x3000 | Present;
        AssertReadsAs(b, model);
        Assert.That(store.TryGet(0x11, out var again), Is.True);
        Assert.That(again[3], Is.EqualTo(0x3000 | Present));
    }

    [Test]
    public void CreateRefusesANegativeFrameAndATableTwice()
    {
        var store = new PageTableStore();
        store.Create(5000);
        Assert.Multiple(() =>
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => store.Create(-1));
            Assert.Throws<ArgumentException>(() => store.Create(5000));
            Assert.That(store.IsTable(4999), Is.False);
            Assert.That(store.IsTable(1L << 40), Is.False, "far past the directory");
            Assert.That(store.IsTable(5120), Is.False, "the chunk just past the directory");
            Assert.That(store.IsTable(10), Is.False, "a chunk of the directory with no table yet");
            Assert.That(store.TryGet(5120, out _), Is.False);
            Assert.That(store.Count, Is.EqualTo(1));
        });
        store.Remove(5120);
        store.Remove(10);
        Assert.That(store.Count, Is.EqualTo(1), "removing a frame that holds no table changes nothing");
    }

    [Test]
    public void AnIndexOutsideTheTableIsRefused()
    {
        var t = new PageTableStore().Create(1);
        Assert.Multiple(() =>
        {
            Assert.That(t.Length, Is.EqualTo(512));
            Assert.Throws<IndexOutOfRangeException>(() => _ = t[512]);
            Assert.Throws<IndexOutOfRangeException>(() => _ = t[-1]);
            Assert.Throws<IndexOutOfRangeException>(() => t[512] = 1);
            Assert.Throws<IndexOutOfRangeException>(() => t[-1] = 1);
        });
    }

    /// <summary>Many tables across segments and directory chunks stay apart.</summary>
    [Test]
    public void ThousandsOfTablesKeepTheirOwnEntries()
    {
        var store = new PageTableStore();
        for (long pfn = 0; pfn < 3000; pfn++)
            store.Create(pfn * 3)[(int)(pfn % 512)] = ((ulong)pfn << 12) | Present;
        Assert.Multiple(() =>
        {
            Assert.That(store.Count, Is.EqualTo(3000));
            for (long pfn = 0; pfn < 3000; pfn += 97)
            {
                var t = store[pfn * 3];
                Assert.That(t[(int)(pfn % 512)], Is.EqualTo(((ulong)pfn << 12) | Present));
                Assert.That(t.UsedEntries, Is.EqualTo(1));
                Assert.That(t.Pfn, Is.EqualTo(pfn * 3));
            }
        });
    }

    /// <summary>A split's table: all 512 entries at once, sparse or full, as if written one by one.</summary>
    [Test]
    public void WriteAllFillsAnEmptyTableAsSingleWritesWould()
    {
        var store = new PageTableStore();
        var full = new ulong[512];
        for (int i = 0; i < 512; i++)
            full[i] = ((ulong)(0x40000 + i) << 12) | Present;
        var dense = store.Create(1);
        dense.WriteAll(full);
        AssertReadsAs(dense, full);

        var few = new ulong[512];
        few[3] = 0x3000 | Present;
        few[500] = 0x4000 | Present;
        var sparse = store.Create(2);
        sparse.WriteAll(few);
        AssertReadsAs(sparse, few);
        sparse[3] = 0; // still a sparse table that clears as one
        few[3] = 0;
        AssertReadsAs(sparse, few);

        var exactly = new ulong[512];
        for (int i = 0; i < 7; i++)
            exactly[i * 70] = 0x9000 | Present;
        var seven = store.Create(3);
        seven.WriteAll(exactly);
        AssertReadsAs(seven, exactly);

        Assert.Multiple(() =>
        {
            Assert.Throws<InvalidOperationException>(() => dense.WriteAll(full), "only an empty table");
            Assert.Throws<ArgumentException>(() => store.Create(4).WriteAll(new ulong[511]));
        });
    }

    [Test]
    public void CopyFromCopiesTheRangeOnly()
    {
        var store = new PageTableStore();
        var src = store.Create(1);
        for (int i = 250; i < 260; i++)
            src[i] = ((ulong)i << 12) | Present;
        var dst = store.Create(2);
        dst.CopyFrom(src, 256, 256);
        var model = new ulong[512];
        for (int i = 256; i < 260; i++)
            model[i] = ((ulong)i << 12) | Present;
        AssertReadsAs(dst, model);
        int n = 0;
        foreach (ulong e in dst)
            n += e != 0 ? 1 : 0;
        Assert.That(n, Is.EqualTo(4), "the enumerator visits all 512 entries");
    }

    [Test]
    public void CopyFromOverADestinationWithEntriesWritesTheNoneOnesToo()
    {
        var store = new PageTableStore();
        var src = store.Create(1);
        src[257] = (257UL << 12) | Present;
        var dst = store.Create(2);
        dst[10] = (10UL << 12) | Present;
        dst[300] = (300UL << 12) | Present; // inside the range, none in the source
        dst.CopyFrom(src, 256, 256);
        var model = new ulong[512];
        model[10] = (10UL << 12) | Present;
        model[257] = (257UL << 12) | Present;
        AssertReadsAs(dst, model);
    }

    /// <summary>What a PteTableCache relies on: the generation moves when a present entry changes frame, presence or rights, or a table goes.</summary>
    [Test]
    public void TheGenerationMovesOnStructuralChangesOnly()
    {
        var store = new PageTableStore();
        var sparse = store.Create(1);
        var dense = store.Create(2);
        for (int i = 0; i < 10; i++)
            dense[i + 100] = 0x1000 | Present;
        foreach (var t in new[] { sparse, dense })
        {
            int g = store.Generation;
            t[0] = 0x1000 | Present; // none to present
            Assert.That(store.Generation, Is.EqualTo(g), "filling a none entry");
            t[0] = 0x1000 | Present | _PAGE_ACCESSED | _PAGE_DIRTY;
            Assert.That(store.Generation, Is.EqualTo(g), "ACCESSED and DIRTY");
            t[0] = 0x2000 | Present | _PAGE_ACCESSED | _PAGE_DIRTY;
            Assert.That(store.Generation, Is.EqualTo(g + 1), "another frame");
            t[0] = 0x2000 | _PAGE_PRESENT;
            Assert.That(store.Generation, Is.EqualTo(g + 2), "RW taken away");
            t[0] = 0x2000 | _PAGE_PRESENT | _PAGE_NX;
            Assert.That(store.Generation, Is.EqualTo(g + 3), "NX");
            t[0] = 0;
            Assert.That(store.Generation, Is.EqualTo(g + 4), "cleared");
            t[0] = 0x3000; // a not-present entry with bits
            t[0] = 0x4000;
            Assert.That(store.Generation, Is.EqualTo(g + 4), "a not-present entry caches nothing");
            t[0] = 0;
        }
        int before = store.Generation;
        store.Remove(1);
        Assert.That(store.Generation, Is.EqualTo(before + 1));
    }

    [Test]
    public void TheWriteLogKeepsChangesOfPresentEntriesOnly()
    {
        var (store, t) = TableWith(3, 9);
        int id = store.IdOf(0x100);
        ulong[] path9 = [PageTableStore.PathKey(id, 9)];
        long at = store.Writes;
        t[20] = Entry(20); // none to present: nothing cached can have walked it
        t[21] = 5UL << 12; // a non-present entry written
        t[21] = 6UL << 12;
        Assert.That(store.Writes, Is.EqualTo(at));
        t[9] = Entry(9); // the same value
        Assert.That(store.WrittenSince(at, path9), Is.False);
        t[3] |= _PAGE_ACCESSED; // another entry's A bit
        Assert.That(store.WrittenSince(at, path9), Is.False);
        t[9] |= _PAGE_DIRTY; // this one's D bit: a check compares every bit
        Assert.Multiple(() =>
        {
            Assert.That(store.WrittenSince(at, path9), Is.True);
            Assert.That(store.WrittenSince(store.Writes, path9), Is.False, "nothing since now");
            Assert.That(store.WrittenSince(at, [PageTableStore.PathKey(id, PageTableStore.AnyIndex)]), Is.True, "a key for the whole table");
            Assert.That(store.WrittenSince(at, [PageTableStore.PathKey(id + 1, 9)]), Is.False, "another table's entry 9");
        });
    }

    [Test]
    public void EveryWayOfClearingAPresentEntryIsLogged()
    {
        var (store, t) = TableWith(0, 1, 2, 3, 9, 100, 400, 511);
        int id = store.IdOf(0x100);
        long at = store.Writes;
        t.GetAndClear(9);
        Assert.That(store.WrittenSince(at, [PageTableStore.PathKey(id, 9)]), Is.True, "ptep_get_and_clear");
        at = store.Writes;
        t.ClearNextUsed(10, 511, out _);
        Assert.That(store.WrittenSince(at, [PageTableStore.PathKey(id, 100)]), Is.True, "the zap's step");
        at = store.Writes;
        t[400] = 0;
        Assert.That(store.WrittenSince(at, [PageTableStore.PathKey(id, 400)]), Is.True, "a write of none");
        at = store.Writes;
        store.Remove(0x100);
        Assert.That(store.WrittenSince(at, [PageTableStore.PathKey(id, 511)]), Is.True, "the table freed: every entry of it");
    }

    [Test]
    public void AWriteLogThatOverflowedAnswersChanged()
    {
        var (store, t) = TableWith(3, 9);
        int id = store.IdOf(0x100);
        long at = store.Writes;
        for (int i = 0; i <= PageTableStore.WriteLogSize; i++)
            t[3] ^= _PAGE_ACCESSED;
        Assert.That(store.WrittenSince(at, [PageTableStore.PathKey(id, 9)]), Is.True, "entry 9 never changed, but the log cannot tell any more");
        Assert.That(store.WrittenSince(at + 2, [PageTableStore.PathKey(id, 9)]), Is.False, "from a count the log still covers");
    }

    /// <summary>
    /// The table page's word (pte-refcount's page->pte_refcount) lives and dies with the table:
    /// zero when made, kept through entry changes, gone with the frame's table, zero again when
    /// a table is made in the same frame (its slot reused by another frame's table too).
    /// </summary>
    [Test]
    public void APageWordLivesAndDiesWithItsTable()
    {
        var (store, t) = TableWith(1, 2);
        Assert.That(store.PageWord(0x100), Is.Zero, "made zeroed");
        store.PageWord(0x100) = 0x8000_0000_0000_0403;
        t[3] = Entry(3);
        t[1] = 0;
        for (int i = 10; i < 20; i++)
            t[i] = Entry(i); // the table becomes a full array
        Assert.That(store.PageWord(0x100), Is.EqualTo(0x8000_0000_0000_0403UL), "the model never touches it");
        Assert.That(System.Runtime.CompilerServices.Unsafe.IsNullRef(ref store.PageWord(0x101)), "a frame with no table has no word");
        store.Remove(0x100);
        Assert.That(System.Runtime.CompilerServices.Unsafe.IsNullRef(ref store.PageWord(0x100)), "gone with the table");
        store.Create(0x200); // takes the freed table's slot
        Assert.That(store.PageWord(0x200), Is.Zero, "a reused slot starts from zero");
        store.PageWord(0x200) = 7;
        store.Create(0x100);
        Assert.That((store.PageWord(0x100), store.PageWord(0x200)), Is.EqualTo((0UL, 7UL)));
    }
}
