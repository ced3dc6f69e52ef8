using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Mm;

/// <summary>
/// /proc/PID/pagemap (fs/proc/task_mmu.c, 5.x): one 64-bit entry per page. The model's
/// tasks are root, so the PFN is shown (pm->show_pfn); there is no swap, no file memory and
/// no CONFIG_MEM_SOFT_DIRTY, so bits 55, 61 and 62 stay clear.
/// </summary>
public static class Pagemap
{
    public const int PM_PFRAME_BITS = 55;
    public const ulong PM_PFRAME_MASK = (1UL << PM_PFRAME_BITS) - 1;
    public const ulong PM_SOFT_DIRTY = 1UL << 55;
    public const ulong PM_MMAP_EXCLUSIVE = 1UL << 56;
    public const ulong PM_FILE = 1UL << 61;
    public const ulong PM_SWAP = 1UL << 62;
    public const ulong PM_PRESENT = 1UL << 63;

    /// <summary>
    /// pagemap_read over <paramref name="pages"/> pages from <paramref name="start"/> (page
    /// aligned): a hole or a none entry is 0; a present one is PM_PRESENT with its pfn, and
    /// PM_MMAP_EXCLUSIVE when it is a normal page (vm_normal_page: not the zero page) mapped once.
    /// </summary>
    public static ulong[] Read(Kernel k, MmStruct mm, ulong start, long pages)
    {
        k.CountOperation(pages); // a read of many pages counts against the runaway budget like a touch
        var entries = new ulong[pages];
        for (long i = 0; i < pages; i++)
        {
            ulong addr = start + ((ulong)i << PAGE_SHIFT);
            var vma = mm.FindVma(addr);
            if (vma is null || vma.Start > addr)
                continue;
            long table = mm.PteTableOf(addr);
            if (table < 0)
                continue;
            ulong pte = k.Tables[table][pte_index(addr)];
            if (!pte_present(pte))
                continue;
            long pfn = pte_pfn(pte);
            ulong e = PM_PRESENT | ((ulong)pfn & PM_PFRAME_MASK);
            if (!pte_special(pte) && k.Frames.Peek(pfn).MapCount == 0)
                e |= PM_MMAP_EXCLUSIVE;
            entries[i] = e;
        }
        return entries;
    }
}
