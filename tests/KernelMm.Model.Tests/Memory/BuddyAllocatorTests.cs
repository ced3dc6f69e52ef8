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
            Assert.That(_log.Warnings, Has.Count.EqualTo(1));
            Assert.That(_log.Warnings[0].Message, Does.StartWith("BUG: Bad page state in process swapper/0  pfn:00000"));
            Assert.That(_log.Warnings[0].Message, Does.Contain("page dumped because: nonzero mapcount"));
            Assert.That(_log.Taints, Does.Contain('B'));
            Assert.That(_vmstat[VmStatItem.NR_FREE_PAGES], Is.EqualTo(free), "the page is leaked, not freed");
            Assert.That(_frames.Peek(pfn).OwnerKind, Is.EqualTo(PageOwnerKind.BadPage));
        });
    }

    [TestCase(PageFlags.PG_lru, "PAGE_FLAGS_CHECK_AT_FREE flag(s) set")]
    [TestCase(PageFlags.PG_table, "PAGE_FLAGS_CHECK_AT_FREE flag(s) set")]
    public void FreePagesCheckReasons(PageFlags flag, string reason)
    {
        long pfn = _buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        _frames[pfn].Flags |= flag;
        _buddy.FreePages(pfn, 0);
        Assert.That(_log.Warnings.Single().Message, Does.Contain(reason));
    }

    [Test]
    public void StillChargedPageIsBadPageState()
    {
        long pfn = _buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        _frames[pfn].MemcgId = 3;
        _buddy.FreePages(pfn, 0);
        Assert.That(_log.Warnings.Single().Message, Does.Contain("page still charged to cgroup"));
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
}
