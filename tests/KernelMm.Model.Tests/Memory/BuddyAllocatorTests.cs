using KernelMm.Model.Diagnostics;
using KernelMm.Model.Memory;
using KernelMm.Model.Stats;

namespace KernelMm.Model.Tests.Memory;

/// <summary>
/// The buddy allocator on a bare two-block zone:
/// <code>
///   pfn 0                1024               2048
///   |  max-order block   |  max-order block  |
/// </code>
/// </summary>
public class BuddyAllocatorTests
{
    private PageFrames _frames = null!;
    private Zone _zone = null!;
    private VmStat _vmstat = null!;
    private KernelLog _log = null!;
    private BuddyAllocator _buddy = null!;

    [SetUp]
    public void SetUp()
    {
        _frames = new PageFrames(2048);
        _zone = new Zone(ZoneType.ZONE_DMA, 0, 2048);
        _vmstat = new VmStat();
        _log = new KernelLog();
        _buddy = new BuddyAllocator(_frames, [_zone], _vmstat, _log);
        _buddy.FreeBootMemory(0, 2048);
    }

    private long[] NrFree => [.. _zone.NrFree];

    [Test]
    public void BootMemoryIsTwoFreeMaxOrderBlocksLowestFirst()
    {
        Assert.Multiple(() =>
        {
            Assert.That(_buddy.FreeList(_zone, 10), Is.EqualTo(new long[] { 0, 1024 }));
            Assert.That(_vmstat[VmStatItem.NR_FREE_PAGES], Is.EqualTo(2048));
            Assert.That(_frames.MaterializedChunks, Is.Zero, "pristine blocks have no page arrays");
        });
    }

    [Test]
    public void OrderZeroAllocationSplitsDownAndFreeMergesBackUp()
    {
        long pfn = _buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        Assert.Multiple(() =>
        {
            Assert.That(pfn, Is.EqualTo(0));
            // expand(): one upper half left on each of orders 0..9, at 1, 2, 4 ... 512.
            Assert.That(NrFree, Is.EqualTo(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }));
            for (int order = 0; order < 10; order++)
                Assert.That(_buddy.FreeList(_zone, order), Is.EqualTo(new long[] { 1L << order }));
            Assert.That(_vmstat[VmStatItem.NR_FREE_PAGES], Is.EqualTo(2047));
            Assert.That(_vmstat[VmEventItem.PGALLOC_DMA], Is.EqualTo(1));
        });

        _buddy.FreePages(pfn, 0);
        Assert.Multiple(() =>
        {
            Assert.That(NrFree, Is.EqualTo(new long[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 }));
            Assert.That(_buddy.FreeList(_zone, 10), Is.EqualTo(new long[] { 0, 1024 }));
            Assert.That(_frames.MaterializedChunks, Is.Zero, "a block merged back to max order drops its page array");
            Assert.That(_vmstat[VmEventItem.PGFREE], Is.EqualTo(1));
            Assert.That(_log.Warnings, Is.Empty);
        });
    }

    [Test]
    public void EveryPageAllocatedThenFreedMergesToMaxOrder()
    {
        var pfns = new List<long>();
        long p;
        while ((p = _buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel)) >= 0)
            pfns.Add(p);
        Assert.That(pfns, Has.Count.EqualTo(2048));
        Assert.That(pfns, Is.Unique);
        Assert.That(pfns, Is.Ordered, "LIFO free lists hand out the lower half first");
        foreach (var pfn in Enumerable.Reverse(pfns))
            _buddy.FreePages(pfn, 0);
        Assert.That(NrFree[10], Is.EqualTo(2));
        Assert.That(NrFree.Take(10), Is.All.Zero);
    }

    [Test]
    public void HigherOrderAllocationIsAlignedAndBuddiesAreFoundByXor()
    {
        long a = _buddy.AllocPages(3, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        long b = _buddy.AllocPages(3, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        Assert.Multiple(() =>
        {
            Assert.That(a % 8, Is.Zero);
            Assert.That(b, Is.EqualTo(BuddyAllocator.__find_buddy_pfn(a, 3)), "the second order-3 block is the first one's buddy");
        });
        _buddy.FreePages(a, 3);
        Assert.That(_buddy.FreeList(_zone, 3), Does.Contain(a));
        _buddy.FreePages(b, 3);
        Assert.That(_buddy.FreeList(_zone, 3), Is.Empty, "buddies merged");
        Assert.That(NrFree[10], Is.EqualTo(2));
    }

    [Test]
    public void FreeingAMappedPageIsBadPageStateAndLeaksIt()
    {
        long pfn = _buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.UserAnon, ownerId: 42);
        _frames[pfn].MapCount = 0; // one mapping left
        long free = _vmstat[VmStatItem.NR_FREE_PAGES];
        _buddy.FreePages(pfn, 0);
        Assert.Multiple(() =>
        {
            Assert.That(_log.Warnings[0].Message, Does.StartWith("BUG: Bad page state in process swapper/0  pfn:00000"));
            Assert.That(_log.Warnings.Select(w => w.Message), Has.One.EqualTo("page dumped because: nonzero mapcount"));
            Assert.That(_log.Taints, Does.Contain('B'));
            Assert.That(_vmstat[VmStatItem.NR_FREE_PAGES], Is.EqualTo(free), "the page is leaked, not freed");
            Assert.That(_frames.Peek(pfn).OwnerKind, Is.EqualTo(PageOwnerKind.BadPage));
        });
    }

    [TestCase(PageFlags.PG_lru, "PAGE_FLAGS_CHECK_AT_FREE flag(s) set")]
    [TestCase(PageFlags.PG_table, "nonzero mapcount")]
    public void FreePagesCheckReasons(PageFlags flag, string reason)
    {
        long pfn = _buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        _frames[pfn].Flags |= flag;
        _buddy.FreePages(pfn, 0);
        Assert.That(_log.Warnings.Select(w => w.Message), Has.One.EqualTo($"page dumped because: {reason}"));
    }

    [Test]
    public void StillChargedPageIsBadPageState()
    {
        long pfn = _buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        _frames[pfn].MemcgId = 3;
        _buddy.FreePages(pfn, 0);
        Assert.That(_log.Warnings.Select(w => w.Message), Has.One.EqualTo("page dumped because: page still charged to cgroup"));
    }

    [Test]
    public void TheFreePathSeamRunsBeforeTheCheck()
    {
        long pfn = _buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        _frames[pfn].MemcgId = 3;
        _buddy.FreePagesPrepareHook = (p, order) => _frames[p].MemcgId = 0;
        _buddy.FreePages(pfn, 0);
        Assert.That(_log.Warnings, Is.Empty);
    }

    [Test]
    public void DoubleFreeIsRecordedAndFreesNothing()
    {
        long pfn = _buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        _buddy.FreePages(pfn, 0);
        long free = _vmstat[VmStatItem.NR_FREE_PAGES];
        _buddy.FreePages(pfn, 0);
        Assert.Multiple(() =>
        {
            Assert.That(_log.Warnings.Single().Kind, Is.EqualTo("double-free"));
            Assert.That(_vmstat[VmStatItem.NR_FREE_PAGES], Is.EqualTo(free));
        });
    }

    [Test]
    public void ARefcountedPageIsFreedByTheLastPut()
    {
        long pfn = _buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        _buddy.GetPage(pfn);
        _buddy.FreePages(pfn, 0);
        Assert.That(_frames.Peek(pfn).RefCount, Is.EqualTo(1));
        _buddy.FreePages(pfn, 0);
        Assert.That(_frames.Peek(pfn).IsBuddy || _frames.IsPristine(pfn), Is.True);
    }

    [Test]
    public void ExhaustionReturnsMinusOne()
    {
        Assert.That(_buddy.AllocPages(10, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel), Is.EqualTo(0));
        Assert.That(_buddy.AllocPages(10, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel), Is.EqualTo(1024));
        Assert.That(_buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel), Is.EqualTo(-1));
    }

    [Test]
    public void KernelAllocationsPreferTheNormalZone()
    {
        var k = TestKernel.Boot(memory: 8L << 30);
        long before = k.VmStat[VmEventItem.PGALLOC_NORMAL];
        long pfn = k.Buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        Assert.Multiple(() =>
        {
            Assert.That(k.Buddy.ZoneOf(pfn).Type, Is.EqualTo(ZoneType.ZONE_NORMAL));
            Assert.That(k.VmStat[VmEventItem.PGALLOC_NORMAL], Is.EqualTo(before + 1));
            Assert.That(k.Buddy.ZoneOf(k.Buddy.AllocPages(0, GfpFlags.__GFP_DMA32, PageOwnerKind.Kernel)).Type, Is.EqualTo(ZoneType.ZONE_DMA32));
        });
    }

    /// <summary>
    /// memblock_free_all of a range that is not max-order aligned, [1, 2000): the largest
    /// aligned block at each step (1, 2, 4 ... 512, then 512, 256, 128, 64, 16 on the way down),
    /// to the tail, so the lowest pfn is handed out first and every page once.
    /// </summary>
    [Test]
    public void BootMemoryOfAnUnalignedRangeGoesInTheLargestAlignedBlocks()
    {
        var frames = new PageFrames(2048);
        var zone = new Zone(ZoneType.ZONE_DMA, 0, 2048);
        var vmstat = new VmStat();
        var buddy = new BuddyAllocator(frames, [zone], vmstat, new KernelLog());
        buddy.FreeBootMemory(1, 2000);
        Assert.Multiple(() =>
        {
            Assert.That(zone.NrFree, Is.EqualTo(new long[] { 1, 1, 1, 1, 2, 1, 2, 2, 2, 2, 0 }));
            Assert.That(buddy.FreeList(zone, 9), Is.EqualTo(new long[] { 512, 1024 }), "to the tail: lowest first");
            Assert.That(buddy.FreeList(zone, 4), Is.EqualTo(new long[] { 16, 1984 }));
            Assert.That((zone.ManagedPages, zone.FreePages, vmstat[VmStatItem.NR_FREE_PAGES]), Is.EqualTo((1999L, 1999L, 1999L)));
        });
        var pfns = new List<long>();
        long p;
        while ((p = buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel)) >= 0)
            pfns.Add(p);
        Assert.That(pfns, Is.EquivalentTo(Enumerable.Range(1, 1999).Select(i => (long)i)), "every page of the range, once, and none outside it");
        Assert.That(pfns[0], Is.EqualTo(1));
    }

    [Test]
    public void ReservedFramesAreTakenBeforeTheAllocatorSeesThem()
    {
        var frames = new PageFrames(2048);
        var zone = new Zone(ZoneType.ZONE_DMA, 0, 2048);
        var buddy = new BuddyAllocator(frames, [zone], new VmStat(), new KernelLog());
        buddy.Reserve(0, 16, PageOwnerKind.KernelImage, ownerId: 7);
        buddy.FreeBootMemory(16, 2048);
        Assert.Multiple(() =>
        {
            foreach (long pfn in new long[] { 0, 15 })
            {
                var page = frames.Peek(pfn);
                Assert.That((page.Has(PageFlags.PG_reserved), page.RefCount, page.OwnerKind, page.OwnerId), Is.EqualTo((true, 1, PageOwnerKind.KernelImage, 7)), $"pfn {pfn}");
            }
            Assert.That(frames.Peek(16).Has(PageFlags.PG_reserved), Is.False);
            Assert.That(buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel), Is.EqualTo(16));
        });
    }

    [Test]
    public void EveryPageOfAHigherOrderBlockIsPreparedAndChecked()
    {
        long pfn = _buddy.AllocPages(3, GfpFlags.GFP_KERNEL, PageOwnerKind.Vmalloc, ownerId: 5);
        Assert.Multiple(() =>
        {
            for (long i = 0; i < 8; i++)
                Assert.That((_frames.Peek(pfn + i).OwnerKind, _frames.Peek(pfn + i).OwnerId), Is.EqualTo((PageOwnerKind.Vmalloc, 5)), $"page {i}");
            Assert.That(_frames.Peek(pfn).RefCount, Is.EqualTo(1), "the head holds the block's reference");
            Assert.That(_vmstat[VmStatItem.NR_FREE_PAGES], Is.EqualTo(2048 - 8));
            Assert.That(_vmstat[VmEventItem.PGALLOC_DMA], Is.EqualTo(8));
        });

        _frames[pfn + 5].MapCount = 0;                      // a tail page still mapped
        _buddy.FreePages(pfn, 3);
        Assert.Multiple(() =>
        {
            Assert.That(_log.Warnings.Select(w => w.Message).Take(4), Is.EqualTo(new[]
            {
                $"BUG: Bad page state in process swapper/0  pfn:{pfn + 5:x5}",
                $"page:{0xffffea0000000000 + (ulong)(pfn + 5) * 64:x16} refcount:0 mapcount:1 mapping:0000000000000000 index:0x0",
                "flags: 0x0()",
                "page dumped because: nonzero mapcount",
            }));
            Assert.That(Enumerable.Range(0, 8).Select(i => _frames.Peek(pfn + i).OwnerKind), Is.All.EqualTo(PageOwnerKind.BadPage), "bad_page leaks the whole block");
            Assert.That(_vmstat[VmStatItem.NR_FREE_PAGES], Is.EqualTo(2048 - 8));
            Assert.That(_vmstat[VmEventItem.PGFREE], Is.Zero, "__free_pages_ok returns before it counts PGFREE when free_pages_prepare refuses");
        });
    }

    [Test]
    public void AFreedHigherOrderBlockComesBackWhole()
    {
        long pfn = _buddy.AllocPages(3, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        _frames[pfn + 3].Flags |= PageFlags.PG_anon;         // an anonymous page's mapping tag, cleared at free
        _buddy.FreePages(pfn, 3);
        Assert.Multiple(() =>
        {
            Assert.That(_log.Warnings, Is.Empty);
            Assert.That(_vmstat[VmStatItem.NR_FREE_PAGES], Is.EqualTo(2048));
            Assert.That(_vmstat[VmEventItem.PGFREE], Is.EqualTo(8));
            Assert.That(NrFree, Is.EqualTo(new long[] { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 }));
        });
    }

    [Test]
    public void SplitPageGivesEachPageItsOwnReference()
    {
        long pfn = _buddy.AllocPages(2, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel, ownerId: 9);
        _buddy.SplitPage(pfn, 2);
        Assert.That(Enumerable.Range(0, 4).Select(i => (_frames.Peek(pfn + i).RefCount, _frames.Peek(pfn + i).OwnerId)), Is.All.EqualTo((1, 9)));
        for (long i = 3; i >= 0; i--)
            _buddy.FreePages(pfn + i, 0);
        Assert.That(_log.Warnings, Is.Empty);
        Assert.That(NrFree[10], Is.EqualTo(2));
    }

    [Test]
    public void APageFreedWhileSomeoneHoldsAReferenceIsBadPageState()
    {
        // free_unref_page on a page whose last reference is not gone: free_pages_check's "nonzero _refcount".
        long pfn = _buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        _buddy.FreeFrozenPages(pfn, 0);
        Assert.That(_log.Warnings.Select(w => w.Message), Has.One.EqualTo("page dumped because: nonzero _refcount").And.Some.Contains(" refcount:1 mapcount:0 "));
    }

    [Test]
    public void APagePutToZeroAndThenFreedIsTheRefcountBug()
    {
        long pfn = _buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        Assert.That(_buddy.PutPageTestzero(pfn), Is.True, "the last reference");
        _buddy.FreePages(pfn, 0);
        Assert.Multiple(() =>
        {
            Assert.That(_log.Warnings.Select(w => (w.Kind, w.Message)), Is.EqualTo(new[] { ("double-free", $"page:{pfn:x5} refcount:0 freed again (order 0): VM_BUG_ON_PAGE(page_ref_count(page) == 0)") }));
            Assert.That(_vmstat[VmStatItem.NR_FREE_PAGES], Is.EqualTo(2047), "nothing was freed");
        });
        Assert.That(_buddy.PutPageTestzero(pfn), Is.False);
        Assert.That(_log.Warnings[^1].Message, Does.Contain("refcount:0 put again"));
    }

    /// <summary>
    /// buddy_merge_likely: a freed order-1 block at 2 whose buddy (0) is in use, but whose
    /// order-2 parent's buddy (4) is free, is likely to merge soon: it goes to the tail, and
    /// the next order-1 allocation takes the other block.
    /// </summary>
    [Test]
    public void ABlockLikelyToMergeGoesToTheTailOfItsList()
    {
        long a = _buddy.AllocPages(1, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        long b = _buddy.AllocPages(1, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        long c = _buddy.AllocPages(2, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        long d = _buddy.AllocPages(1, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        Assert.That((a, b, c, d), Is.EqualTo((0L, 2L, 4L, 8L)));
        _buddy.FreePages(c, 2);
        _buddy.FreePages(b, 1);
        Assert.That(_buddy.FreeList(_zone, 1), Is.EqualTo(new long[] { 10, 2 }));
        Assert.That(_buddy.AllocPages(1, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel), Is.EqualTo(10));
    }

    [Test]
    public void BuddyinfoPrintsEachZonesFreeCounts()
    {
        _buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        Assert.That(_buddy.RenderBuddyInfo(), Is.EqualTo("Node 0, zone      DMA      1      1      1      1      1      1      1      1      1      1      1\n"));
    }

    [Test]
    public void BadArgumentsAreRefusedNotFollowed()
    {
        Assert.Multiple(() =>
        {
            Assert.That(() => _buddy.AllocPages(11, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => _buddy.AllocPages(-1, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => _buddy.FreePages(4096, 0), Throws.InstanceOf<ArgumentOutOfRangeException>());
            Assert.That(() => _buddy.ZoneOf(4096), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("pfn 1000 is in no zone"));
        });
    }

    /// <summary>
    /// release_pages' step with the page in hand (put_page_testzero, then free_unref_page on
    /// the same struct page) leaves every free list, head to tail, as __free_pages of each
    /// page does, and so do the counters: 300 order-0 pages freed in a scattered order,
    /// merging back into both max-order blocks.
    /// </summary>
    [Test]
    public void FreeingPagesInHandLeavesTheFreeListsAsFreePagesDoes()
    {
        var other = new BuddyAllocatorTests();
        other.SetUp();
        var pages = new List<long>();
        for (int i = 0; i < 300; i++)
        {
            long a = _buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
            Assert.That(other._buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel), Is.EqualTo(a));
            pages.Add(a);
        }
        var order = pages.Select((p, i) => (p, key: (i * 7919) % 300)).OrderBy(x => x.key).Select(x => x.p).ToList();
        for (int i = 0; i < order.Count; i++)
        {
            long pfn = order[i];
            ref var page = ref _frames.MaterializedOrNull(pfn);
            Assert.That(_buddy.PutPageTestzero(ref page, pfn), Is.True);
            _buddy.FreeFrozenPage(ref page, pfn);
            other._buddy.FreePages(pfn, 0);
            if (i % 50 == 49 || i == order.Count - 1)
                for (int o = 0; o <= BuddyAllocator.MAX_ORDER; o++)
                    Assert.That(_buddy.FreeList(_zone, o), Is.EqualTo(other._buddy.FreeList(other._zone, o)), $"order {o} after {i + 1} frees");
        }
        Assert.Multiple(() =>
        {
            Assert.That(_buddy.FreeList(_zone, 10), Is.EqualTo(new long[] { 0, 1024 }).Or.EqualTo(new long[] { 1024, 0 }), "everything merged back");
            Assert.That(NrFree, Is.EqualTo(other.NrFree));
            Assert.That(_vmstat[VmEventItem.PGFREE], Is.EqualTo(other._vmstat[VmEventItem.PGFREE]));
            Assert.That(_vmstat[VmStatItem.NR_FREE_PAGES], Is.EqualTo(2048));
        });
    }

    /// <summary>
    /// free_pages_check's one-test common case never hides a bad page: over random struct
    /// pages (each field drawn from the values that matter: mapcounts, PG_table's type,
    /// references, every flag, a memcg), a page it calls clean has no bad reason, and it
    /// calls clean exactly the pages with nothing set.
    /// </summary>
    [Test]
    public void TheCleanAtFreeShortcutAgreesWithEveryBadReason()
    {
        var rng = new Random(15);
        int[] mapcounts = [MapcountValues.Unmapped, MapcountValues.Unmapped + 1, 0, MapcountValues.PAGE_BUDDY_MAPCOUNT_VALUE, unchecked((int)0xf0000000)];
        int clean = 0;
        for (int n = 0; n < 100_000; n++)
        {
            var p = Page.Fresh;
            if (rng.Next(2) == 0)
                p.Flags = (PageFlags)(1 << rng.Next(16));
            p.MapCount = mapcounts[rng.Next(mapcounts.Length)];
            p.Link0 = rng.Next(4) == 0 ? 1 : 0;
            p.MemcgId = rng.Next(4) == 0 ? 3 : 0;
            p.Order = rng.Next(3);
            bool shortcut = BuddyAllocator.IsCleanAtFree(p);
            if (shortcut)
            {
                clean++;
                Assert.That(BuddyAllocator.FreePagesCheckReason(p), Is.Null, $"info {p.Info:x} mapcount {p.MapCount:x} link0 {p.Link0}");
            }
            bool nothingSet = (p.Flags & (PageFlags.CheckAtFree | PageFlags.PG_table)) == 0 && p.MemcgId == 0
                && p.MapCount == MapcountValues.Unmapped && p.Link0 == 0;
            Assert.That(shortcut, Is.EqualTo(nothingSet));
        }
        Assert.That(clean, Is.GreaterThan(1000), "the shortcut was exercised");
    }
}
