using KernelMm.Model.Paging;
using KernelMm.Model.Tlb;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Model.Tests.Tlb;

/// <summary>One CPU's TLB on its own: sizes, INVLPG, CR3 switches, FIFO eviction and its holes.</summary>
public class CpuTlbTests
{
    private const ulong K4 = 4096, M2 = 2UL << 20, G1 = 1UL << 30;

    private static Translation Small(ulong va, long pfn, ulong flags = _PAGE_PRESENT, long table = -1) =>
        new(va, PageLevel.PG_LEVEL_4K, pfn, flags, table);

    private static long? PfnAt(CpuTlb t, ulong va) => t.Lookup(va) is { } e ? e.Translation.PfnOf(va) : null;

    [Test]
    public void ACapacityOf1To64EntriesIsAccepted()
    {
        Assert.Multiple(() =>
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => new CpuTlb(0, capacity: 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => new CpuTlb(0, capacity: -1));
            Assert.Throws<ArgumentOutOfRangeException>(() => new CpuTlb(0, capacity: 65), "its check packs slot numbers in a byte");
            Assert.That(new CpuTlb(3, capacity: 64).Capacity, Is.EqualTo(64));
            Assert.That(new CpuTlb(3, capacity: 1).Cpu, Is.EqualTo(3));
            Assert.That(new CpuTlb(3).Capacity, Is.EqualTo(CpuTlb.DefaultCapacity));
        });
    }

    [Test]
    public void AnEmptyTlbMissesEverywhere()
    {
        var t = new CpuTlb(0);
        Assert.Multiple(() =>
        {
            Assert.That(t.Count, Is.Zero);
            Assert.That(t.Lookup(0x1000), Is.Null);
            Assert.That(t.TryLookupFlags(0x1000, out ulong flags), Is.False);
            Assert.That(flags, Is.Zero);
            Assert.That(t.Covering(0x1000), Is.Empty);
            Assert.That(t.Entries, Is.Empty);
            Assert.That(t.LargestLevel, Is.EqualTo(PageLevel.PG_LEVEL_NONE));
            Assert.That(t.AnyWalkedThrough(-1), Is.False, "no entry, not even one without a table");
            Assert.That(t.CurrentPgd, Is.EqualTo(-1), "no mm loaded yet");
        });
    }

    [Test]
    public void AFillMustBeAlignedToItsSize()
    {
        var t = new CpuTlb(0);
        Assert.Multiple(() =>
        {
            Assert.Throws<ArgumentException>(() => t.Fill(Small(0x1800, 1)));
            Assert.Throws<ArgumentException>(() => t.Fill(new Translation(G1 + K4 * 512, PageLevel.PG_LEVEL_1G, 0, _PAGE_PRESENT)));
            Assert.Throws<ArgumentException>(() => t.Fill(new Translation(K4, PageLevel.PG_LEVEL_2M, 0, _PAGE_PRESENT)));
            Assert.That(t.Count, Is.Zero);
        });
        t.Fill(new Translation(M2, PageLevel.PG_LEVEL_2M, 512, _PAGE_PRESENT));
        Assert.That(t.Count, Is.EqualTo(1));
    }

    /// <summary>Three sizes cached for one address: a lookup takes the 4K one, Covering lists all three.</summary>
    [Test]
    public void TheSmallestSizeMatchesFirstAndCoveringListsEverySize()
    {
        var t = new CpuTlb(0);
        ulong va = G1 + M2 + 3 * K4;
        t.Fill(new Translation(G1, PageLevel.PG_LEVEL_1G, 0x40000, _PAGE_PRESENT | _PAGE_GLOBAL));
        t.Fill(new Translation(G1 + M2, PageLevel.PG_LEVEL_2M, 0x80000, _PAGE_PRESENT));
        Assert.That(PfnAt(t, va), Is.EqualTo(0x80003), "2M before 1G");
        t.Fill(Small(G1 + M2 + 3 * K4, 0x777, _PAGE_PRESENT | _PAGE_RW));
        Assert.Multiple(() =>
        {
            Assert.That(PfnAt(t, va), Is.EqualTo(0x777), "4K before 2M");
            Assert.That(PfnAt(t, va + K4), Is.EqualTo(0x80004), "the next 4K page is only in the 2M entry");
            Assert.That(PfnAt(t, G1 + 5 * K4), Is.EqualTo(0x40005), "outside the 2M entry the 1G one answers");
            Assert.That(PfnAt(t, 2 * G1), Is.Null);
            Assert.That(t.TryLookupFlags(va, out ulong flags), Is.True);
            Assert.That(flags, Is.EqualTo(_PAGE_PRESENT | _PAGE_RW));
            Assert.That(t.Covering(va).Select(e => e.Translation.Level), Is.EqualTo(new[] { PageLevel.PG_LEVEL_4K, PageLevel.PG_LEVEL_2M, PageLevel.PG_LEVEL_1G }));
            Assert.That(t.Covering(va + K4).Select(e => e.Translation.Level), Is.EqualTo(new[] { PageLevel.PG_LEVEL_2M, PageLevel.PG_LEVEL_1G }));
            Assert.That(t.LargestLevel, Is.EqualTo(PageLevel.PG_LEVEL_1G));
            Assert.That(t.Entries.Single(e => e.Translation.Level == PageLevel.PG_LEVEL_1G).Global, Is.True);
            Assert.That(t.Entries.Where(e => e.Translation.Level != PageLevel.PG_LEVEL_1G).Select(e => e.Global), Is.All.False);
            Assert.That(t.Entries.Select(e => e.Cpu), Is.All.EqualTo(0));
        });
    }

    [Test]
    public void InvlpgDropsEveryEntryCoveringTheAddressAndNoOther()
    {
        var t = new CpuTlb(0);
        ulong va = G1 + M2 + 3 * K4;
        t.Fill(new Translation(G1, PageLevel.PG_LEVEL_1G, 0x40000, _PAGE_PRESENT));
        t.Fill(new Translation(G1 + M2, PageLevel.PG_LEVEL_2M, 0x80000, _PAGE_PRESENT));
        t.Fill(Small(va, 1));
        t.Fill(Small(va + K4, 2));
        t.Fill(new Translation(G1 + 2 * M2, PageLevel.PG_LEVEL_2M, 0x90000, _PAGE_PRESENT));
        t.Invlpg(va + 0x123);
        Assert.Multiple(() =>
        {
            Assert.That(t.Count, Is.EqualTo(2));
            Assert.That(PfnAt(t, va), Is.Null, "the 4K, 2M and 1G entries of that address are gone");
            Assert.That(PfnAt(t, va + K4), Is.EqualTo(2));
            Assert.That(PfnAt(t, G1 + 2 * M2), Is.EqualTo(0x90000));
            Assert.That(t.LargestLevel, Is.EqualTo(PageLevel.PG_LEVEL_2M));
        });
        t.Invlpg(va + K4);
        t.Invlpg(G1 + 2 * M2 + 5 * K4);
        Assert.Multiple(() =>
        {
            Assert.That(t.Count, Is.Zero);
            Assert.That(t.LargestLevel, Is.EqualTo(PageLevel.PG_LEVEL_NONE));
        });
        t.Invlpg(va); // on an empty TLB: nothing to do
        Assert.That(t.Count, Is.Zero);
    }

    [Test]
    public void ACr3SwitchKeepsOnlyGlobalEntries()
    {
        var t = new CpuTlb(0);
        // 64 entries in 256 slots: long probe runs, whose removals move later entries back.
        for (int i = 0; i < 64; i++)
            t.Fill(Small((ulong)i * K4, 1000 + i, _PAGE_PRESENT | (i % 3 == 0 ? _PAGE_GLOBAL : 0)));
        t.FlushNonGlobal();
        Assert.Multiple(() =>
        {
            Assert.That(t.Count, Is.EqualTo(22));
            for (int i = 0; i < 64; i++)
                Assert.That(PfnAt(t, (ulong)i * K4), Is.EqualTo(i % 3 == 0 ? 1000 + i : null), $"page {i}");
            Assert.That(t.Entries.Select(e => e.Global), Is.All.True);
        });
    }

    [Test]
    public void AFullFlushDropsGlobalEntriesTooAndTheOrderStartsAgain()
    {
        var t = new CpuTlb(0, capacity: 2);
        t.Fill(Small(0, 1, _PAGE_PRESENT | _PAGE_GLOBAL));
        t.Fill(Small(K4, 2));
        t.FlushAll();
        Assert.Multiple(() =>
        {
            Assert.That(t.Count, Is.Zero);
            Assert.That(PfnAt(t, 0), Is.Null);
            Assert.That(t.LargestLevel, Is.EqualTo(PageLevel.PG_LEVEL_NONE));
        });
        t.Fill(Small(2 * K4, 3));
        t.Fill(Small(3 * K4, 4));
        t.Fill(Small(4 * K4, 5));
        Assert.Multiple(() =>
        {
            Assert.That(t.Count, Is.EqualTo(2));
            Assert.That(PfnAt(t, 2 * K4), Is.Null, "the oldest fill since the flush goes");
            Assert.That(PfnAt(t, 3 * K4), Is.EqualTo(4));
            Assert.That(PfnAt(t, 4 * K4), Is.EqualTo(5));
        });
    }

    [Test]
    public void ARefillReplacesTheTranslationAndKeepsItsPlaceInTheOrder()
    {
        var t = new CpuTlb(0, capacity: 2);
        t.Fill(Small(0, 1));
        t.Fill(Small(K4, 2));
        t.Fill(Small(0, 7, _PAGE_PRESENT | _PAGE_RW)); // the same key: no new entry
        Assert.Multiple(() =>
        {
            Assert.That(t.Count, Is.EqualTo(2));
            Assert.That(t.Inserts, Is.EqualTo(2), "a refill inserts nothing");
            Assert.That(PfnAt(t, 0), Is.EqualTo(7));
        });
        t.Fill(Small(2 * K4, 3));
        Assert.Multiple(() =>
        {
            Assert.That(PfnAt(t, 0), Is.Null, "still the oldest: evicted first");
            Assert.That(PfnAt(t, K4), Is.EqualTo(2));
            Assert.That(PfnAt(t, 2 * K4), Is.EqualTo(3));
        });
    }

    [Test]
    public void AnInvalidatedEntryLeavesAHoleThatEvictionSkips()
    {
        var t = new CpuTlb(0, capacity: 2);
        t.Fill(Small(0, 1));
        t.Fill(Small(K4, 2));
        t.Invlpg(0);
        t.Fill(Small(2 * K4, 3)); // room: nothing evicted
        Assert.That(PfnAt(t, K4), Is.EqualTo(2));
        t.Fill(Small(3 * K4, 4));
        Assert.Multiple(() =>
        {
            Assert.That(t.Count, Is.EqualTo(2));
            Assert.That(PfnAt(t, K4), Is.Null, "the oldest live entry goes, not the newer one");
            Assert.That(PfnAt(t, 2 * K4), Is.EqualTo(3));
            Assert.That(PfnAt(t, 3 * K4), Is.EqualTo(4));
        });
    }

    /// <summary>The ring has 16 positions for a 4-entry TLB: dozens of dropped fills make it compact, keeping the live entries' order.</summary>
    [Test]
    public void ManyDroppedFillsKeepTheOrderOfTheLiveOnes()
    {
        var t = new CpuTlb(0, capacity: 4);
        t.Fill(Small(0, 1));
        t.Fill(Small(K4, 2));
        for (int i = 0; i < 40; i++)
        {
            ulong va = (ulong)(100 + i) * K4;
            t.Fill(Small(va, 100 + i));
            t.Invlpg(va);
        }
        t.Fill(Small(2 * K4, 3));
        t.Fill(Small(3 * K4, 4));
        Assert.That(t.Count, Is.EqualTo(4));
        t.Fill(Small(4 * K4, 5));
        Assert.That(PfnAt(t, 0), Is.Null, "the first fill is still the oldest");
        t.Fill(Small(5 * K4, 6));
        Assert.Multiple(() =>
        {
            Assert.That(PfnAt(t, K4), Is.Null, "then the second");
            Assert.That(PfnAt(t, 2 * K4), Is.EqualTo(3));
            Assert.That(PfnAt(t, 3 * K4), Is.EqualTo(4));
            Assert.That(PfnAt(t, 4 * K4), Is.EqualTo(5));
            Assert.That(PfnAt(t, 5 * K4), Is.EqualTo(6));
            Assert.That(t.Inserts, Is.EqualTo(46), "every insert counts, whatever the compaction did to the ring");
        });
    }

    /// <summary>A full TLB under churn: every entry stays findable, eviction goes strictly in fill order.</summary>
    [Test]
    public void AFullTlbEvictsInFillOrderUnderChurn()
    {
        var t = new CpuTlb(0);
        for (int i = 0; i < 500; i++)
        {
            // Addresses far apart, so their homes scatter and probe runs wrap around the table.
            t.Fill(Small((ulong)i * 0x9000 * K4, i));
            if (i % 7 == 3)
                t.Invlpg((ulong)(i - 1) * 0x9000 * K4);
        }
        var live = Enumerable.Range(0, 500).Where(i => PfnAt(t, (ulong)i * 0x9000 * K4) is not null).ToList();
        var expected = Enumerable.Range(0, 500).Where(i => i % 7 != 2 || i == 499).TakeLast(64);
        Assert.Multiple(() =>
        {
            Assert.That(t.Count, Is.EqualTo(64));
            Assert.That(live, Is.EqualTo(expected), "the 64 newest fills that were not invalidated");
            Assert.That(live.All(i => PfnAt(t, (ulong)i * 0x9000 * K4) == i), Is.True, "each with its own frame");
        });
    }

    [Test]
    public void EntriesByAddressSortsBySizeWithinAnAddress()
    {
        var t = new CpuTlb(0);
        t.Fill(Small(G1 + 5 * K4, 9));
        t.Fill(new Translation(G1, PageLevel.PG_LEVEL_1G, 0x40000, _PAGE_PRESENT));
        t.Fill(Small(G1, 8));
        t.Fill(new Translation(G1, PageLevel.PG_LEVEL_2M, 0x50000, _PAGE_PRESENT));
        t.Fill(Small(K4, 7));
        var order = new List<(ulong, PageLevel, long)>();
        foreach (ulong key in t.EntriesByAddress())
        {
            var tr = t.TranslationOf(key);
            order.Add((tr.VirtualBase, tr.Level, tr.BasePfn));
        }
        Assert.That(order, Is.EqualTo(new[]
        {
            (K4, PageLevel.PG_LEVEL_4K, 7L),
            (G1, PageLevel.PG_LEVEL_4K, 8L),
            (G1, PageLevel.PG_LEVEL_2M, 0x50000L),
            (G1, PageLevel.PG_LEVEL_1G, 0x40000L),
            (G1 + 5 * K4, PageLevel.PG_LEVEL_4K, 9L),
        }));
    }

    [Test]
    public void AnyWalkedThroughNamesTheTableOfAnEntry()
    {
        var t = new CpuTlb(0);
        t.Fill(Small(0, 1, table: 0x500));
        t.Fill(Small(K4, 2, table: 0x501));
        Assert.Multiple(() =>
        {
            Assert.That(t.AnyWalkedThrough(0x500), Is.True);
            Assert.That(t.AnyWalkedThrough(0x501), Is.True);
            Assert.That(t.AnyWalkedThrough(0x502), Is.False);
        });
        t.Invlpg(0);
        Assert.That(t.AnyWalkedThrough(0x500), Is.False);
    }

    /// <summary>
    /// Random fills, refills, INVLPGs and CR3 switches against a plain model of a FIFO TLB
    /// (a list in fill order): after every step each size's entries, the lookups and the
    /// eviction order agree. Addresses fall in 4 GiB so that sizes overlap and the table's
    /// probe runs grow long and wrap.
    /// </summary>
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void RandomUseMatchesAFifoModel(int seed)
    {
        var rng = new Random(seed);
        var t = new CpuTlb(0);
        var model = new List<Translation>(); // oldest first
        PageLevel[] levels = [PageLevel.PG_LEVEL_4K, PageLevel.PG_LEVEL_4K, PageLevel.PG_LEVEL_4K, PageLevel.PG_LEVEL_2M, PageLevel.PG_LEVEL_1G];
        ulong RandomVa() => (ulong)rng.NextInt64(0, 1L << 32) & ~(K4 - 1);
        Translation? ModelLookup(ulong va)
        {
            foreach (var level in new[] { PageLevel.PG_LEVEL_4K, PageLevel.PG_LEVEL_2M, PageLevel.PG_LEVEL_1G })
            {
                ulong size = PageShifts.page_level_size(level);
                int i = model.FindIndex(m => m.Level == level && m.VirtualBase == (va & ~(size - 1)));
                if (i >= 0)
                    return model[i];
            }
            return null;
        }
        var probes = new List<ulong>();
        for (int step = 0; step < 1500; step++)
        {
            int op = rng.Next(10);
            if (op < 7 || model.Count == 0)
            {
                var level = levels[rng.Next(levels.Length)];
                ulong size = PageShifts.page_level_size(level);
                // Half the fills go to an address seen before, so refills and overlaps are common.
                ulong va = probes.Count > 0 && rng.Next(2) == 0 ? probes[rng.Next(probes.Count)] : RandomVa();
                var tr = new Translation(va & ~(size - 1), level, rng.Next(1, 1 << 20), _PAGE_PRESENT | (rng.Next(4) == 0 ? _PAGE_GLOBAL : 0));
                t.Fill(tr);
                int at = model.FindIndex(m => m.Level == tr.Level && m.VirtualBase == tr.VirtualBase);
                if (at >= 0)
                    model[at] = tr;
                else
                {
                    if (model.Count == t.Capacity)
                        model.RemoveAt(0);
                    model.Add(tr);
                }
                probes.Add(va);
            }
            else if (op < 9)
            {
                ulong va = probes[rng.Next(probes.Count)];
                t.Invlpg(va);
                model.RemoveAll(m => va - m.VirtualBase < m.Size);
            }
            else
            {
                t.FlushNonGlobal();
                model.RemoveAll(m => (m.Flags & _PAGE_GLOBAL) == 0);
            }
            Assert.That(t.Count, Is.EqualTo(model.Count), $"step {step}");
            foreach (ulong va in probes.TakeLast(24))
                Assert.That(t.Lookup(va)?.Translation, Is.EqualTo(ModelLookup(va)), $"step {step}, 0x{va:x}");
            if (step % 100 == 0)
            {
                Assert.That(t.Entries.Select(e => e.Translation).OrderBy(x => x.VirtualBase).ThenBy(x => x.Level),
                    Is.EqualTo(model.OrderBy(x => x.VirtualBase).ThenBy(x => x.Level)), $"step {step}");
                var largest = model.Count == 0 ? PageLevel.PG_LEVEL_NONE : model.Max(m => m.Level);
                Assert.That(t.LargestLevel, Is.EqualTo(largest), $"step {step}");
            }
        }
    }
}
