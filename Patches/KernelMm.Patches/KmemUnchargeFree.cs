using KernelMm.Model;
using KernelMm.Model.Memory;

namespace KernelMm.Patches;

/// <summary>
/// Patch 3: "mm: uncharge kmem pages from generic free_page path" (Vladimir Davydov,
/// [PATCH 1/5] of "memcg: charge page tables (x86) and pipe buffers", 2015-09-26), as
/// posted: alloc_kmem_pages marks every page it returns PageKmem, charged to a cgroup or not
/// (`if (page) __SetPageKmem(page)` after memcg_kmem_commit_charge), by setting _mapcount
/// to PAGE_KMEM_MAPCOUNT_VALUE (-512, only from -1); free_pages_prepare uncharges a PageKmem
/// page and clears the mark before free_pages_check; __page_cache_release skips the
/// ordinary uncharge of kmem pages; free_kmem_pages is gone (free_pages instead).
/// What 1/5 does not change: release_pages' uncharge_list (that is 3/5 of the series), which
/// still uncharges a kmem page as an ordinary page and clears page-&gt;mem_cgroup, so the
/// generic path then finds nothing to uncharge: page tables freed in mmu_gather batches keep
/// leaking their kmem charge with this patch alone.
/// </summary>
public sealed class KmemUnchargeFree() : Patch(
    id: "kmem-uncharge-free",
    order: 3,
    title: "mm: uncharge kmem pages from generic free_page path",
    posted: "[PATCH 1/5], Vladimir Davydov, linux-mm, 2015-09-26 (series \"memcg: charge page tables (x86) and pipe buffers\")",
    changes: "Marks alloc_kmem_pages pages PageKmem (_mapcount -512) and uncharges them in free_pages_prepare; deletes free_kmem_pages.")
{
    public override void Apply(Kernel k)
    {
        k.Memcgs.FreeKmemPagesUncharges = false;
        k.Memcgs.AfterAllocKmemPages += (pfn, order) => SetPageKmem(k, pfn);
        var previous = k.Buddy.FreePagesPrepareHook;
        k.Buddy.FreePagesPrepareHook = (pfn, order) =>
        {
            previous?.Invoke(pfn, order);
            if (PageKmem(k, pfn))
            {
                k.Memcgs.UnchargeKmem(pfn, order);
                k.Frames[pfn].MapCount = MapcountValues.Unmapped; // __ClearPageKmem
            }
        };
    }

    public static bool PageKmem(Kernel k, long pfn) => k.Frames.Peek(pfn).MapCount == MapcountValues.PAGE_KMEM_MAPCOUNT_VALUE;

    /// <summary>__SetPageKmem: VM_BUG_ON_PAGE unless _mapcount is -1 (recorded; the page is left unmarked).</summary>
    private static void SetPageKmem(Kernel k, long pfn) => PageTypeMark.Set(k, pfn, MapcountValues.PAGE_KMEM_MAPCOUNT_VALUE, "kmem");
}
