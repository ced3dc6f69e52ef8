using KernelMm.Model.Paging;

namespace KernelMm.Model.Mm;

/// <summary>
/// Seams around user page tables that patches hook into at boot. Each is empty in the
/// base kernel.
/// </summary>
public sealed class PageTableHooks
{
    /// <summary>A user table page was allocated (after its constructor), at the given level of what it maps.</summary>
    public Action<MmStruct, long, PageLevel>? UserTableAllocated { get; set; }

    /// <summary>A user table page was unlinked and its destructor ran (it is freed after the TLB flush).</summary>
    public Action<MmStruct, long, PageLevel>? UserTableFreed { get; set; }

    /// <summary>
    /// zap_pte_range finished one PTE table (<see cref="PteTableZap"/>): return true to have
    /// the table freed at once, as the kernel's free_pte does (pmd_clear, pte_free_tlb into the
    /// zap's own mmu_gather, mm_dec_nr_ptes). The base kernel keeps every table until
    /// free_pgtables.
    /// </summary>
    public Func<MmStruct, PteTableZap, bool>? PteTableZapped { get; set; }

    /// <summary>A user PTE changed from the first value to the second (set_pte_at / ptep_get_and_clear).</summary>
    public Action<MmStruct, long, ulong, ulong>? UserPteChanged { get; set; }
}
