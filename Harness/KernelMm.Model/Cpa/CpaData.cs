namespace KernelMm.Model.Cpa;

/// <summary>The CPA_* flags of struct cpa_data.</summary>
[Flags]
public enum CpaFlags
{
    None = 0,
    CPA_FLUSHTLB = 1,
    CPA_ARRAY = 2,
    CPA_PAGES_ARRAY = 4,
    CPA_NO_CHECK_ALIAS = 8,
    /// <summary>Try to collapse large pages at the end of cpa_flush (upstream 2025, set by set_memory_rox only); nothing reads it in the base kernel.</summary>
    CPA_COLLAPSE = 16,
}

/// <summary>
/// struct cpa_data: one change_page_attr request, its progress (curpage, numpages as the
/// step consumed) and what it found out (pfn, flush flags).
/// </summary>
public sealed class CpaData
{
    /// <summary>The start address, or for CPA_ARRAY the addresses.</summary>
    public ulong[] Vaddr { get; init; } = [];
    /// <summary>For CPA_PAGES_ARRAY: the pages, as pfns.</summary>
    public long[]? Pages { get; init; }
    public long NumPages { get; set; }
    public ulong MaskSet { get; set; }
    public ulong MaskClr { get; set; }
    public CpaFlags Flags { get; set; }
    public long CurPage { get; set; }
    public long Pfn { get; set; }
    public bool ForceSplit { get; init; }
    public bool ForceStaticProt { get; set; }
    public bool ForceFlushAll { get; set; }

    /// <summary>__cpa_addr: the address of page <paramref name="idx"/> of the request.</summary>
    public ulong Addr(long idx)
    {
        if ((Flags & CpaFlags.CPA_PAGES_ARRAY) != 0)
            return KernelLayout.__va((ulong)Pages![idx] << 12);
        if ((Flags & CpaFlags.CPA_ARRAY) != 0)
            return Vaddr[idx] & Paging.PageShifts.PAGE_MASK;
        return Vaddr[0] + (ulong)idx * Paging.PageShifts.PAGE_SIZE;
    }

    /// <summary>alias_cpa = *cpa, aimed at one address, arrays dropped, curpage 0.</summary>
    public CpaData AliasAt(ulong vaddr, ulong maskSet, ulong maskClr) => new()
    {
        Vaddr = [vaddr],
        NumPages = NumPages,
        MaskSet = maskSet,
        MaskClr = maskClr,
        Flags = Flags & ~(CpaFlags.CPA_PAGES_ARRAY | CpaFlags.CPA_ARRAY),
        CurPage = 0,
        Pfn = Pfn,
        ForceSplit = ForceSplit,
        ForceStaticProt = ForceStaticProt,
        ForceFlushAll = ForceFlushAll,
    };
}
