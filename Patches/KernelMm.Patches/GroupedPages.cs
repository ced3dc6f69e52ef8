using KernelMm.Model;
using KernelMm.Model.Memory;
using KernelMm.Model.Mm;
using KernelMm.Model.Vmscan;

namespace KernelMm.Patches;

/// <summary>
/// Patch 2: "x86/mm/cpa: Add grouped page allocations" (Rick Edgecombe, RFC 3/9 of "PKS
/// write protected page tables", 2021-05-04), as posted, with the PKS page tables of the
/// series as its consumer (the boot option protectPageTables; the patch changes nothing
/// without it). Table pages come from a cache: the most recently freed page first; an
/// empty cache is refilled with an order-9 (HUGETLB_PAGE_ORDER) block, split, whose 512
/// pages get the page-table key at once (pre_add_to_cache, so the 2M direct-map entry
/// stays large), one returned and 511 cached; if no order-9 block can be had, one order-0
/// page. Freed table pages return to the cache.
/// The shrinker never gives anything back: init_grouped_page_cache memsets the cache and
/// never stores its gfp argument (the PKS init passes GFP_KERNEL | PGTABLE_HIGHMEM), so
/// gpc->gfp stays 0, and grouped_shrink_scan's first test, <c>!(sc->gfp_mask &amp; gpc->gfp)</c>,
/// returns SHRINK_STOP to every call; do_shrink_slab stops at its first batch. The same 0 is
/// the gfp of every refill. Behind that test the posted scan isolates sc->nr_to_scan pages
/// from the head of the list and its dispose loop takes list_entry(head, ...) of the on-stack
/// list head instead of the cursor, so the isolated pages would be lost, never freed or
/// reset: unreachable as posted. Read in RFC 3/9 and 7/9 (2021-05-04, lkml, and the 3/9 text
/// quoted in Mike Rapoport's reply of 2021-05-05); v2 03/19 (2021-08-30) keeps both.
/// </summary>
public sealed class GroupedPages() : Patch(
    id: "grouped-pages",
    order: 2,
    title: "x86/mm/cpa: Add grouped page allocations",
    posted: "[PATCH RFC 3/9], Rick Edgecombe, linux-mm, 2021-05-04 (series \"PKS write protected page tables\")",
    changes: "PKS page-table pages come from a cache refilled in 2M-aligned order-9 blocks protected as a whole; freed table pages go back to the cache; a shrinker returns cached pages (its dispose loop frees the wrong struct page).")
{
    /// <summary>HUGETLB_PAGE_ORDER on x86-64.</summary>
    public const int HUGETLB_PAGE_ORDER = 9;

    // One patch object serves every kernel of the matrix (in parallel): state is per kernel.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Kernel, Instance> _instances = new();

    /// <summary>The cache of one kernel.</summary>
    public Instance For(Kernel k) => _instances.TryGetValue(k, out var i) ? i : throw new InvalidOperationException("grouped-pages is not applied to this kernel");

    public override void Apply(Kernel k)
    {
        // init_grouped_page_cache(&gpc_pks, GFP_KERNEL | PGTABLE_HIGHMEM, ...): gpc->gfp is left 0.
        var i = new Instance(k, gfp: GfpFlags.None);
        _instances.Add(k, i);
        if (!k.PageTablePages.Protected)
            return; // no consumer: PKS page tables are off (or disabled by PTI)
        k.PageTablePages.GetPage = i.GetGroupedPage;
        k.PageTablePages.PutPage = i.FreeGroupedPage;
        k.PageTablePages.IsPreProtected = pfn => i.IsProtected(pfn);
        k.RegisterShrinker(i.Shrinker);
        k.FrameClaimers.Add(i.Claims);
    }

    /// <summary>
    /// struct grouped_page_cache of one kernel. <paramref name="gfp"/> is gpc->gfp as
    /// init_grouped_page_cache leaves it: 0 as posted; a test may give the cache the gfp its
    /// caller meant, to reach the scan behind the gfp test.
    /// </summary>
    public sealed class Instance(Kernel k, GfpFlags gfp)
    {
        private readonly Kernel _k = k;

        /// <summary>gpc->gfp: the refills' gfp and the shrinker's reclaim-context test.</summary>
        public GfpFlags Gfp { get; } = gfp;

        /// <summary>gpc->shrinker: NUMA aware, DEFAULT_SEEKS, SHRINK_BATCH.</summary>
        public Shrinker Shrinker => _shrinker ??= new Shrinker(grouped_shrink_count, grouped_shrink_scan);
        private Shrinker? _shrinker;
        // list_lru of one node; the end of the list is the most recently used page.
        private readonly List<long> _lru = [];
        private readonly HashSet<long> _blockProtected = [];

        internal bool IsProtected(long pfn) => _blockProtected.Contains(pfn);

        internal IEnumerable<(long, PageOwnerKind, string)> Claims() => _lru.Select(pfn => (pfn, PageOwnerKind.PatchCache, "grouped page cache"));

        /// <summary>Refills by order-9 block and by order-0 fallback since boot.</summary>
        public long BlockRefills { get; private set; }
        public long FallbackRefills { get; private set; }

        /// <summary>Pages the shrinker isolated and lost (the dispose-loop defect).</summary>
        public long LostToShrinker { get; private set; }

        public int Cached => _lru.Count;

        /// <summary>get_grouped_page: the MRU page, else a refill (with gpc->gfp: the caller's gfp does not reach it).</summary>
        internal long GetGroupedPage(GfpFlags gfp)
        {
            if (_lru.Count > 0)
            {
                long pfn = _lru[^1];
                _lru.RemoveAt(_lru.Count - 1);
                return pfn;
            }
            return ReplenishGroupedPages();
        }

        /// <summary>__replenish_grouped_pages: an order-9 block split into 512 pages (one returned, 511 cached), or one order-0 page.</summary>
        private long ReplenishGroupedPages()
        {
            long block = _k.Buddy.AllocPages(HUGETLB_PAGE_ORDER, Gfp, PageOwnerKind.PatchCache);
            if (block < 0)
            {
                long single = _k.Buddy.AllocPages(0, Gfp, PageOwnerKind.PatchCache);
                if (single < 0)
                    return -1;
                FallbackRefills++;
                return single;
            }
            BlockRefills++;
            _k.Buddy.SplitPage(block, HUGETLB_PAGE_ORDER);
            // pre_add_to_cache: the key for the whole 2M at once keeps the direct-map leaf large.
            _k.PageTablePages.SetMemoryPks(block, 1L << HUGETLB_PAGE_ORDER, PageTablePages.PKS_KEY_PG_TABLES);
            for (long i = 0; i < 1L << HUGETLB_PAGE_ORDER; i++)
                _blockProtected.Add(block + i);
            for (long i = 1; i < 1L << HUGETLB_PAGE_ORDER; i++)
                FreeGroupedPage(block + i);
            return block;
        }

        /// <summary>free_grouped_page: back to the cache, most recent last.</summary>
        internal void FreeGroupedPage(long pfn)
        {
            ref var p = ref _k.Frames[pfn];
            p.OwnerKind = PageOwnerKind.PatchCache;
            p.Link1 = 0;
            _blockProtected.Add(pfn); // a page comes back still carrying the key: nothing resets it on free
            _lru.Add(pfn);
        }

        /// <summary>grouped_shrink_count: list_lru_shrink_count, or SHRINK_EMPTY.</summary>
        internal long grouped_shrink_count(ShrinkControl sc) => _lru.Count > 0 ? _lru.Count : Shrinker.SHRINK_EMPTY;

        /// <summary>
        /// grouped_shrink_scan: SHRINK_STOP unless sc->gfp_mask &amp; gpc->gfp; else
        /// list_lru_shrink_walk isolates sc->nr_to_scan pages from the head of the list (the
        /// least recently freed: list_lru_add adds at the tail), __dispose_pages works on
        /// list_entry(head), not on them, and sc->nr_scanned grows by what was isolated, on
        /// top of the nr_to_scan do_shrink_slab put there.
        /// </summary>
        internal long grouped_shrink_scan(ShrinkControl sc)
        {
            if ((sc.GfpMask & Gfp) == 0)
                return Shrinker.SHRINK_STOP;
            int isolated = (int)Math.Min(sc.NrToScan, _lru.Count);
            foreach (var pfn in _lru.Take(isolated))
                _blockProtected.Remove(pfn);
            _lru.RemoveRange(0, isolated);
            if (isolated > 0)
            {
                LostToShrinker += isolated;
                _k.Log.Warn("grouped-pages",
                    $"grouped_shrink_scan isolated {isolated} pages; __dispose_pages called pre_shrink_free and __free_pages {isolated} times on list_entry(head), the on-stack list head, not on them");
            }
            sc.NrScanned += isolated;
            return isolated;
        }
    }
}
