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

    /// <summary>A user PTE changed from the first value to the second (set_pte_at / ptep_get_and_clear).</summary>
    public Action<MmStruct, long, ulong, ulong>? UserPteChanged { get; set; }
}
