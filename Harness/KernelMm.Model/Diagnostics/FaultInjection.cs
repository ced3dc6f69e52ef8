namespace KernelMm.Model.Diagnostics;

/// <summary>
/// Test-only breakage, to prove that the invariant checks catch what they claim to. Each
/// switch makes one kernel path wrong in one specific way; none is on in a normal run.
/// </summary>
[Flags]
public enum FaultInjection
{
    None = 0,
    /// <summary>cpa_flush, tlb_finish_mmu and flush_tlb_mm_range skip their TLB flush (the check at the flush point still runs).</summary>
    SkipTlbFlush = 1 << 0,
    /// <summary>free_pte_range unlinks a PTE table but never frees it.</summary>
    LeakPageTable = 1 << 1,
    /// <summary>memcg_kmem_uncharge_pages does nothing.</summary>
    SkipUncharge = 1 << 2,
    /// <summary>release_pages frees each page twice.</summary>
    DoubleFree = 1 << 3,
    /// <summary>page_remove_rmap forgets NR_ANON_MAPPED.</summary>
    DropCounterUpdate = 1 << 4,
    /// <summary>add_mm_counter never lowers MM_ANONPAGES (zap and COW forget their decrement).</summary>
    SkipRssDecrement = 1 << 5,
    /// <summary>mem_cgroup_charge counts an anonymous page twice in memory.usage.</summary>
    DoubleCharge = 1 << 6,
    /// <summary>A page table's count of non-none entries is not lowered when an entry is cleared.</summary>
    MiscountTableEntries = 1 << 7,
    /// <summary>split_large_page splits without split_page_count: DirectMap keeps the large page.</summary>
    SkipSplitPageCount = 1 << 8,
    /// <summary>mem_cgroup_move_charge moves page-&gt;mem_cgroup but neither precharges the destination nor cancels the source's charge.</summary>
    SkipMoveChargeCounters = 1 << 9,
}
