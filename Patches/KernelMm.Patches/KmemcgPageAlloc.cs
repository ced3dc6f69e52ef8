using KernelMm.Model;
using KernelMm.Model.Memory;

namespace KernelMm.Patches;

/// <summary>
/// Upstream descendant of kmem-uncharge-free: Vladimir Davydov's v2 series as merged in v4.7
/// (May 2016): "mm: charge/uncharge kmemcg from generic page allocator paths" (4949148ad433),
/// "mm: memcontrol: teach uncharge_list to deal with kmem pages" (5e8d35f849b1) and "arch: x86:
/// charge page tables to kmemcg" (3e79ec7ddc33), with the stable fix "mm: memcontrol: only mark
/// charged pages with PageKmemcg" (Aug 2016), read in the linux-mm postings of 2016-05-24 and
/// 2016-08-08. __alloc_pages_nodemask charges a __GFP_ACCOUNT page (x86's PGALLOC_GFP now has
/// it) and marks it PageKmemcg (_mapcount -512) only when it was charged to a non-root cgroup;
/// free_pages_prepare uncharges a PageKmemcg page before free_pages_check; and uncharge_list
/// counts a PageKmemcg page as nr_kmem, uncharging it from memory and (cgroup v1) kmem and
/// clearing the mark, instead of uncharging it as an anonymous or file page. alloc_kmem_pages
/// and free_kmem_pages are gone. So a table is uncharged whichever path frees it: free_pgtables
/// through mmu_gather and release_pages, pt-reclaim's pte_free_tlb, or __free_page.
/// What the posting (1/5 alone) lacked was the uncharge_list half.
/// </summary>
public sealed class KmemcgPageAlloc() : Descendant(
    id: "kmemcg-page-alloc",
    order: 1,
    title: "mm: charge/uncharge kmemcg from generic page allocator paths",
    merged: "v4.7",
    commit: "4949148ad433 (with 5e8d35f849b1 \"mm: memcontrol: teach uncharge_list to deal with kmem pages\" and 3e79ec7ddc33 \"arch: x86: charge page tables to kmemcg\")",
    of: "kmem-uncharge-free",
    changes: "__GFP_ACCOUNT pages are charged and marked PageKmemcg (_mapcount -512) by the page allocator and uncharged in free_pages_prepare; uncharge_list uncharges a PageKmemcg page from kmem too; free_kmem_pages is gone. Every freed page table is uncharged, whichever path frees it.")
{
    public override void Apply(Kernel k)
    {
        k.Memcgs.FreeKmemPagesUncharges = false;
        // The model's charge commit runs only for a page charged to a cgroup: the Aug 2016 fix's "only mark charged pages".
        var afterCharge = k.Memcgs.AfterKmemCharge;
        k.Memcgs.AfterKmemCharge = (pfn, order) =>
        {
            afterCharge?.Invoke(pfn, order);
            SetPageKmemcg(k, pfn);
        };
        var prepare = k.Buddy.FreePagesPrepareHook;
        k.Buddy.FreePagesPrepareHook = (pfn, order) =>
        {
            prepare?.Invoke(pfn, order);
            if (PageKmemcg(k, pfn))
                MemcgKmemUncharge(k, pfn, order);
        };
        var unchargeList = k.Memcgs.UnchargeListHook;
        k.Memcgs.UnchargeListHook = pfn =>
        {
            if (unchargeList?.Invoke(pfn) == true)
                return true;
            if (!PageKmemcg(k, pfn))
                return false;
            // nr_kmem: uncharge_batch takes it from memory and, on cgroup v1, from kmem.
            MemcgKmemUncharge(k, pfn, 0);
            return true;
        };
    }

    public static bool PageKmemcg(Kernel k, long pfn) => k.Frames.Peek(pfn).MapCount == MapcountValues.PAGE_KMEMCG_MAPCOUNT_VALUE;

    /// <summary>memcg_kmem_uncharge: both counters, page-&gt;mem_cgroup, and __ClearPageKmemcg.</summary>
    private static void MemcgKmemUncharge(Kernel k, long pfn, int order)
    {
        k.Memcgs.UnchargeKmem(pfn, order);
        k.Frames[pfn].MapCount = MapcountValues.Unmapped;
    }

    /// <summary>__SetPageKmemcg: VM_BUG_ON_PAGE unless _mapcount is -1 (recorded; the page is left unmarked).</summary>
    private static void SetPageKmemcg(Kernel k, long pfn) => PageTypeMark.Set(k, pfn, MapcountValues.PAGE_KMEMCG_MAPCOUNT_VALUE, "kmemcg");
}
