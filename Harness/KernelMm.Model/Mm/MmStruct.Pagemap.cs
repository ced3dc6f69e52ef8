using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Model.Mm;

public sealed partial class MmStruct
{
    /// <summary>
    /// What /proc/PID/pagemap says of [start, end): the pages present, and of those the ones
    /// mapping the shared zero page (a read fault's pte_mkspecial of ZERO_PAGE).
    /// </summary>
    public (long Present, long Zero) PagemapCounts(ulong start, ulong end)
    {
        long present = 0, zero = 0;
        foreach (var (_, _, pte) in PresentPtes(start, end))
        {
            // pagemap_pte_range tests pte_present(): a PROT_NONE pte is present there too.
            if (!pte_present(pte))
                continue;
            present++;
            if (pte_pfn(pte) == _k.ZeroPfn)
                zero++;
        }
        return (present, zero);
    }
}
