using KernelMm.Model.Diagnostics;
using KernelMm.Model.Stats;

namespace KernelMm.Model.Memory;

/// <summary>
/// The buddy allocator of mm/page_alloc.c: per-zone free_area[0..MAX_ORDER], split on
/// allocation (expand) and merge on free (__free_one_page), with free_pages_prepare and
/// free_pages_check on the way back. Deterministic: there are no per-CPU page lists and
/// one migratetype, so the order of the free lists is the kernel's LIFO order plus the
/// to-tail rule of buddy_merge_likely, and nothing else.
/// </summary>
public sealed class BuddyAllocator
{
    public const int MAX_ORDER = PageFrames.MAX_ORDER;

    private readonly PageFrames _frames;
    private readonly VmStat _vmstat;
    private readonly KernelLog _log;
    // Free-list links of max-order blocks, by chunk, so that pristine chunks need no pages.
    private readonly int[] _maxNext;
    private readonly int[] _maxPrev;
    // The zones as an array: ZoneOf runs on every free, and a foreach over the interface allocated an enumerator.
    private readonly Zone[] _zones;

    public BuddyAllocator(PageFrames frames, IReadOnlyList<Zone> zones, VmStat vmstat, KernelLog log)
    {
        _frames = frames;
        Zones = zones;
        _zones = [.. zones];
        _vmstat = vmstat;
        _log = log;
        long chunks = frames.MaxPfn >> PageFrames.ChunkShift;
        _maxNext = new int[chunks];
        _maxPrev = new int[chunks];
    }

    public IReadOnlyList<Zone> Zones { get; }

    /// <summary>
    /// Seam of the generic free path: runs in free_pages_prepare before free_pages_check
    /// (where kmem-uncharge-free uncharges). The unpatched kernel does nothing here.
    /// </summary>
    public Action<long, int>? FreePagesPrepareHook { get; set; }

    /// <summary>The name used in "Bad page state in process X": the task whose call freed the page.</summary>
    public string CurrentComm { get; set; } = "swapper/0";

    public Zone ZoneOf(long pfn)
    {
        foreach (var z in _zones)
            if (z.Contains(pfn))
                return z;
        throw new ArgumentOutOfRangeException(nameof(pfn), $"pfn {pfn:x} is in no zone");
    }

    /// <summary>NR_FREE_PAGES over all zones.</summary>
    public long NrFreePages => _vmstat[VmStatItem.NR_FREE_PAGES];

    // ---- free lists ----

    private long Next(int order, long pfn) =>
        order == MAX_ORDER ? Unpack(_maxNext[pfn >> PageFrames.ChunkShift]) : Unpack(_frames[pfn].Link0);

    private long Prev(int order, long pfn) =>
        order == MAX_ORDER ? Unpack(_maxPrev[pfn >> PageFrames.ChunkShift]) : Unpack(_frames[pfn].Link1);

    private void SetNext(int order, long pfn, long next)
    {
        if (order == MAX_ORDER)
            _maxNext[pfn >> PageFrames.ChunkShift] = Pack(next);
        else
            _frames[pfn].Link0 = Pack(next);
    }

    private void SetPrev(int order, long pfn, long prev)
    {
        if (order == MAX_ORDER)
            _maxPrev[pfn >> PageFrames.ChunkShift] = Pack(prev);
        else
            _frames[pfn].Link1 = Pack(prev);
    }

    // Links are stored +1 so that the zero-initialised arrays mean "none".
    private static int Pack(long pfn) => (int)(pfn + 1);

    private static long Unpack(int v) => v - 1L;

    private void AddToFreeList(Zone zone, long pfn, int order, bool tail)
    {
        // list_add or list_add_tail: the block's own links, then its neighbour's (or the list's ends).
        long old = tail ? zone.Tail[order] : zone.Head[order];
        long next = tail ? -1 : old, prev = tail ? old : -1;
        if (order == MAX_ORDER)
        {
            // A chunk merged back to one max-order block needs no page array any more.
            if (!_frames.IsPristine(pfn))
                _frames.Dematerialize(pfn);
            _maxNext[pfn >> PageFrames.ChunkShift] = Pack(next);
            _maxPrev[pfn >> PageFrames.ChunkShift] = Pack(prev);
        }
        else
        {
            // Below MAX_ORDER the links are the head page's own (page->lru): one lookup.
            ref var page = ref _frames[pfn];
            page.MapCount = MapcountValues.PAGE_BUDDY_MAPCOUNT_VALUE;
            page.Order = order;
            page.Link0 = Pack(next);
            page.Link1 = Pack(prev);
        }
        if (tail)
        {
            if (old >= 0)
                SetNext(order, old, pfn);
            else
                zone.Head[order] = pfn;
            zone.Tail[order] = pfn;
        }
        else
        {
            if (old >= 0)
                SetPrev(order, old, pfn);
            else
                zone.Tail[order] = pfn;
            zone.Head[order] = pfn;
        }
        zone.NrFree[order]++;
    }

    private void DelFromFreeList(Zone zone, long pfn, int order)
    {
        // __ClearPageBuddy and set_page_private(page, 0): the head is an ordinary page again;
        // below MAX_ORDER its links are read and cleared through one lookup.
        ref var page = ref _frames[pfn];
        long next, prev;
        if (order == MAX_ORDER)
        {
            next = Next(order, pfn);
            prev = Prev(order, pfn);
        }
        else
        {
            next = Unpack(page.Link0);
            prev = Unpack(page.Link1);
        }
        if (prev >= 0)
            SetNext(order, prev, next);
        else
            zone.Head[order] = next;
        if (next >= 0)
            SetPrev(order, next, prev);
        else
            zone.Tail[order] = prev;
        zone.NrFree[order]--;

        page.MapCount = MapcountValues.Unmapped;
        page.Order = 0;
        page.Link0 = 0;
        page.Link1 = 0;
    }

    /// <summary>page_is_buddy: the buddy is free, heads a block of this order, in the same zone.</summary>
    private bool PageIsBuddy(Zone zone, long buddyPfn, int order)
    {
        if (!zone.Contains(buddyPfn))
            return false;
        var p = _frames.Peek(buddyPfn);
        return p.IsBuddy && p.Order == order;
    }

    /// <summary>__find_buddy_pfn: the buddy of a block differs in bit <paramref name="order"/>.</summary>
    public static long __find_buddy_pfn(long pfn, int order) => pfn ^ (1L << order);

    // ---- boot ----

    /// <summary>
    /// memblock_free_all for [start, end): the range goes to the buddy allocator in the
    /// largest aligned blocks, to the tail of the free lists (FPI_TO_TAIL, since 5.10), so
    /// that the lowest free pfns are handed out first.
    /// </summary>
    internal void FreeBootMemory(long start, long end)
    {
        long pfn = start;
        while (pfn < end)
        {
            int order = MAX_ORDER;
            while (order > 0 && ((pfn & ((1L << order) - 1)) != 0 || pfn + (1L << order) > end))
                order--;
            var zone = ZoneOf(pfn);
            zone.ManagedPages += 1L << order;
            if (order == MAX_ORDER && _frames.IsPristine(pfn))
            {
                AddToFreeList(zone, pfn, order, tail: true);
                zone.FreePages += 1L << order;
                _vmstat.Mod(VmStatItem.NR_FREE_PAGES, 1L << order);
            }
            else
            {
                for (long i = 0; i < 1L << order; i++)
                {
                    ref var p = ref _frames[pfn + i];
                    p = Page.Fresh;
                }
                FreeOnePage(zone, pfn, order, toTail: true);
            }
            pfn += 1L << order;
        }
    }

    /// <summary>memblock_reserve at boot: the frames are taken before the buddy allocator sees them.</summary>
    internal void Reserve(long start, long end, PageOwnerKind kind, int ownerId = 0)
    {
        for (long pfn = start; pfn < end; pfn++)
        {
            ref var p = ref _frames[pfn];
            p = Page.Fresh;
            p.Flags = PageFlags.PG_reserved;
            p.Link0 = 1;
            p.OwnerKind = kind;
            p.Link1 = ownerId;
        }
    }

    // ---- allocation ----

    /// <summary>
    /// alloc_pages: the first zone of the zonelist (Normal, DMA32, DMA, limited by the gfp
    /// zone modifiers) that has a block of at least <paramref name="order"/>; -1 if none
    /// (the model has no watermarks, reclaim or OOM killer in this path).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public long AllocPages(int order, GfpFlags gfp, PageOwnerKind owner, int ownerId = 0)
    {
        if ((uint)order > MAX_ORDER)
            throw new ArgumentOutOfRangeException(nameof(order));
        ZoneType highest = (gfp & GfpFlags.__GFP_DMA) != 0 ? ZoneType.ZONE_DMA
            : (gfp & GfpFlags.__GFP_DMA32) != 0 ? ZoneType.ZONE_DMA32
            : ZoneType.ZONE_NORMAL;
        for (int zi = _zones.Length - 1; zi >= 0; zi--)
        {
            var zone = _zones[zi];
            if (zone.Type > highest)
                continue;
            long pfn = RmqueueSmallest(zone, order);
            if (pfn < 0)
                continue;
            PrepNewPage(pfn, order, owner, ownerId);
            _vmstat.Count(zone.Type switch
            {
                ZoneType.ZONE_DMA => VmEventItem.PGALLOC_DMA,
                ZoneType.ZONE_DMA32 => VmEventItem.PGALLOC_DMA32,
                _ => VmEventItem.PGALLOC_NORMAL,
            }, 1L << order);
            return pfn;
        }
        return -1;
    }

    /// <summary>__rmqueue_smallest: take the head of the smallest non-empty free list at or above the order, then expand.</summary>
    private long RmqueueSmallest(Zone zone, int order)
    {
        for (int current = order; current <= MAX_ORDER; current++)
        {
            long pfn = zone.Head[current];
            if (pfn < 0)
                continue;
            DelFromFreeList(zone, pfn, current);
            Expand(zone, pfn, order, current);
            zone.FreePages -= 1L << order;
            _vmstat.Mod(VmStatItem.NR_FREE_PAGES, -(1L << order));
            return pfn;
        }
        return -1;
    }

    /// <summary>expand: the upper halves go to the heads of the lower free lists; the lowest part is returned.</summary>
    private void Expand(Zone zone, long pfn, int low, int high)
    {
        long size = 1L << high;
        while (high > low)
        {
            high--;
            size >>= 1;
            AddToFreeList(zone, pfn + size, high, tail: false);
        }
    }

    /// <summary>prep_new_page: refcount 1, no mapping, the owner noted.</summary>
    private void PrepNewPage(long pfn, int order, PageOwnerKind owner, int ownerId)
    {
        for (long i = 0; i < 1L << order; i++)
        {
            ref var p = ref _frames[pfn + i];
            p = Page.Fresh;
            p.OwnerKind = owner;
            p.Link1 = ownerId;
        }
        ref var head = ref _frames[pfn];
        head.Link0 = 1;
        // The order of a non-compound multi-page allocation is remembered for leak reports.
        head.Order = order;
    }

    // ---- freeing ----

    /// <summary>
    /// __free_pages: drop a reference; at zero, free the block. Freeing a page that has no
    /// reference left is the "page dumped because: VM_BUG_ON_PAGE(page_ref_count(page) == 0)"
    /// of put_page_testzero: recorded, and nothing is freed.
    /// </summary>
    public void FreePages(long pfn, int order)
    {
        if (!_frames.PfnValid(pfn))
            throw new ArgumentOutOfRangeException(nameof(pfn));
        if (DropReference(pfn, $"freed again (order {order})"))
            FreeThePages(pfn, order);
    }

    /// <summary>put_page_testzero: drop a reference; true when it was the last (the caller then frees).</summary>
    public bool PutPageTestzero(long pfn) => DropReference(pfn, "put again");

    /// <summary>One reference fewer; true at zero. A page with none left is the VM_BUG_ON_PAGE, recorded.</summary>
    private bool DropReference(long pfn, string what) => DropReference(ref _frames.MaterializedOrNull(pfn), pfn, what);

    private bool DropReference(ref Page page, long pfn, string what)
    {
        // A frame of a never-touched free block has no reference to drop.
        if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref page) && !page.IsBuddy && page.RefCount > 0)
            return --page.Link0 == 0;
        _log.Warn("double-free", $"page:{pfn:x5} refcount:0 {what}: VM_BUG_ON_PAGE(page_ref_count(page) == 0)");
        return false;
    }

    /// <summary>
    /// put_page_testzero on the page of <paramref name="pfn"/> that release_pages has in hand
    /// (<see cref="PageFrames.MaterializedOrNull"/>): true when it was the last reference.
    /// </summary>
    public bool PutPageTestzero(ref Page page, long pfn) => DropReference(ref page, pfn, "put again");

    /// <summary>
    /// free_unref_page of one order-0 page whose last reference is gone, in hand (release_pages
    /// finds it once); every order-0 free, <see cref="FreePages"/> and <see cref="FreeFrozenPages"/> too, ends here.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void FreeFrozenPage(ref Page page, long pfn)
    {
        FreePagesPrepareHook?.Invoke(pfn, 0);
        if (!FreePagePrepare(ref page, pfn))
            return;
        var zone = ZoneOf(pfn);
        _vmstat.Count(VmEventItem.PGFREE, 1);
        FreeOnePage(zone, pfn, 0, toTail: false);
    }

    /// <summary>free_unref_page: free a block whose last reference is already gone (release_pages).</summary>
    public void FreeFrozenPages(long pfn, int order) => FreeThePages(pfn, order);

    /// <summary>
    /// split_page: a non-compound block of <paramref name="order"/> becomes independent
    /// order-0 pages, each with one reference and the head's owner.
    /// </summary>
    public void SplitPage(long pfn, int order)
    {
        var head = _frames.Peek(pfn);
        for (long i = 0; i < 1L << order; i++)
        {
            ref var p = ref _frames[pfn + i];
            p.Order = 0;
            p.Link0 = 1;
            p.OwnerKind = head.OwnerKind;
            p.Link1 = head.OwnerId;
        }
    }

    /// <summary>get_page: one more reference.</summary>
    public void GetPage(long pfn) => _frames[pfn].Link0++;

    /// <summary>__free_pages_ok: free_pages_prepare, then merge into the free lists.</summary>
    private void FreeThePages(long pfn, int order)
    {
        // Order 0 has one path, the one release_pages takes with the page in hand.
        if (order == 0)
        {
            FreeFrozenPage(ref _frames[pfn], pfn);
            return;
        }
        if (!FreePagesPrepare(pfn, order))
            return;
        var zone = ZoneOf(pfn);
        _vmstat.Count(VmEventItem.PGFREE, 1L << order);
        FreeOnePage(zone, pfn, order, toTail: false);
    }

    /// <summary>
    /// free_pages_prepare of a block above order 0 (order 0 is <see cref="FreePagePrepare"/>):
    /// the hook (kmem uncharge in the patched kernel), then free_pages_check on every page of
    /// the block. A bad page is reported, the kernel tainted, and the block leaked, as
    /// bad_page() leaves it.
    /// </summary>
    private bool FreePagesPrepare(long pfn, int order)
    {
        FreePagesPrepareHook?.Invoke(pfn, order);
        // page->mapping of an anonymous page is only its anon_vma tag: cleared before the check.
        for (long i = 0; i < 1L << order; i++)
            if (_frames.Peek(pfn + i).Has(PageFlags.PG_anon))
                _frames[pfn + i].Flags &= ~PageFlags.PG_anon;
        bool bad = false;
        for (long i = 0; i < 1L << order; i++)
        {
            string? reason = FreePagesCheckReason(_frames.Peek(pfn + i), tail: i != 0);
            if (reason is null)
                continue;
            BadPage(pfn + i, reason);
            bad = true;
        }
        if (bad)
        {
            for (long i = 0; i < 1L << order; i++)
                _frames[pfn + i].OwnerKind = PageOwnerKind.BadPage;
            return false;
        }
        for (long i = 0; i < 1L << order; i++)
        {
            ref var p = ref _frames[pfn + i];
            p = Page.Fresh;
        }
        return true;
    }

    /// <summary>free_pages_prepare's steps for one page (the order-0 free of release_pages and the page-table frees), on one struct page.</summary>
    private bool FreePagePrepare(ref Page p, long pfn)
    {
        p.Flags &= ~PageFlags.PG_anon;
        if (!IsCleanAtFree(p) && FreePagesCheckReason(p) is { } reason)
        {
            BadPage(pfn, reason);
            p.OwnerKind = PageOwnerKind.BadPage;
            return false;
        }
        p = Page.Fresh;
        return true;
    }

    /// <summary>
    /// The common case of free_pages_check in one test (page_expected_state): no flag to
    /// check, no page type, no memcg, unmapped, no reference. Such a page has no bad reason.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal static bool IsCleanAtFree(in Page p) =>
        (p.Info & ((uint)(PageFlags.CheckAtFree | PageFlags.PG_table) | 0xff00_0000u)) == 0
        && p.MapCount == MapcountValues.Unmapped && p.Link0 == 0;

    /// <summary>
    /// page_bad_reason (mm/page_alloc.c, 5.x) of free_pages_check: every test runs and the
    /// last that matches wins (a still-charged page table is "page still charged to cgroup",
    /// not "nonzero mapcount"); null for a good page. page->mapping needs no test here:
    /// free_pages_prepare has cleared an anonymous page's, and the model keeps no other.
    /// </summary>
    public static string? FreePagesCheckReason(Page page, bool tail = false)
    {
        string? reason = null;
        if (DumpPage.MapcountWord(page) != MapcountValues.Unmapped)
            reason = "nonzero mapcount";
        if (!tail && page.RefCount != 0)
            reason = "nonzero _refcount";
        if ((page.Flags & PageFlags.CheckAtFree) != 0)
            reason = "PAGE_FLAGS_CHECK_AT_FREE flag(s) set";
        if (page.MemcgId != 0)
            reason = "page still charged to cgroup";
        return reason;
    }

    /// <summary>The name of a memory cgroup by id, for dump_page's page->mem_cgroup line.</summary>
    public Func<int, string?>? MemcgName { get; set; }

    /// <summary>
    /// bad_page (mm/page_alloc.c, 5.x): a burst of 60 reports, then quiet for the rest of
    /// that minute, counting what it does not print; the first report after the minute says
    /// how many were suppressed. Each report is the BUG line and dump_page's lines. Then
    /// page_mapcount_reset, TAINT_BAD_PAGE, and the page is leaked.
    /// </summary>
    private void BadPage(long pfn, string reason)
    {
        ref var p = ref _frames[pfn];
        if (_badShown == 60)
        {
            if (_log.Jiffies < _badResume)
            {
                _badUnshown++;
                goto out_;
            }
            if (_badUnshown != 0)
            {
                _log.Warn("bad-page", $"BUG: Bad page state: {_badUnshown} messages suppressed");
                _badUnshown = 0;
            }
            _badShown = 0;
        }
        if (_badShown++ == 0)
            _badResume = _log.Jiffies + 60 * KernelLog.HZ;
        _log.Warn("bad-page", $"BUG: Bad page state in process {CurrentComm}  pfn:{pfn:x5}");
        foreach (var line in DumpPage.Lines(pfn, p, ZoneOf(pfn).Type, reason, p.MemcgId != 0 ? MemcgName?.Invoke(p.MemcgId) ?? $"memcg {p.MemcgId}" : null))
            _log.Warn("bad-page", line);
    out_:
        // page_mapcount_reset: the other fields stay for debugging, but not the _mapcount
        // word (PageBuddy could make trouble), which holds the page_type too.
        p.MapCount = MapcountValues.Unmapped;
        p.Flags &= ~PageFlags.PG_table;
        _log.Taint('B');
    }

    private long _badShown, _badUnshown, _badResume;

    /// <summary>__free_one_page: merge with free buddies up to MAX_ORDER, then queue the block.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void FreeOnePage(Zone zone, long pfn, int order, bool toTail)
    {
        zone.FreePages += 1L << order;
        _vmstat.Mod(VmStatItem.NR_FREE_PAGES, 1L << order);
        while (order < MAX_ORDER)
        {
            long buddy = __find_buddy_pfn(pfn, order);
            if (!PageIsBuddy(zone, buddy, order))
                break;
            DelFromFreeList(zone, buddy, order);
            pfn &= buddy;
            order++;
        }
        bool tail = toTail || BuddyMergeLikely(zone, pfn, order);
        AddToFreeList(zone, pfn, order, tail);
    }

    /// <summary>
    /// buddy_merge_likely: if the buddy of the next-higher block is free, this block is
    /// likely to merge soon, so it goes to the tail and is not handed out first.
    /// </summary>
    private bool BuddyMergeLikely(Zone zone, long pfn, int order)
    {
        if (order >= MAX_ORDER - 1)
            return false;
        long higher = pfn & ~(1L << order);
        return PageIsBuddy(zone, __find_buddy_pfn(higher, order + 1), order + 1);
    }

    /// <summary>The free blocks of one list, head first (for tests and /proc/buddyinfo).</summary>
    public IEnumerable<long> FreeList(Zone zone, int order)
    {
        for (long pfn = zone.Head[order]; pfn >= 0; pfn = Next(order, pfn))
            yield return pfn;
    }

    /// <summary>/proc/buddyinfo: "Node 0, zone   Normal  n0 n1 ... n10".</summary>
    public string RenderBuddyInfo()
    {
        var sb = new System.Text.StringBuilder();
        foreach (var z in Zones)
        {
            sb.Append($"Node 0, zone {z.Name,8}");
            foreach (var n in z.NrFree)
                sb.Append($" {n,6}");
            sb.Append('\n');
        }
        return sb.ToString();
    }
}
