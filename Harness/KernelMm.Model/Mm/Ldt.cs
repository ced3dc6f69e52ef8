using KernelMm.Model.Memory;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Mm;

/// <summary>
/// A task's LDT (arch/x86/kernel/ldt.c, 4.9): up to a page of entries comes from
/// get_zeroed_page (the direct map), more from vzalloc (the vmalloc area). With KAISER the
/// entries are user-mapped into the shadow tables, and unmapped (tables kept) when freed.
/// </summary>
internal sealed class Ldt
{
    public const int LDT_ENTRY_SIZE = 8;
    public const int LDT_ENTRIES = 8192;

    private readonly Kernel _k;
    private readonly long _pagePfn = -1;
    private readonly Vmalloc.VmallocArea? _area;

    private Ldt(Kernel k, int entries, long pagePfn, Vmalloc.VmallocArea? area, ulong addr, ulong size)
    {
        _k = k;
        Entries = entries;
        _pagePfn = pagePfn;
        _area = area;
        Addr = addr;
        Size = size;
    }

    public int Entries { get; }
    public long PagePfn => _pagePfn;
    public ulong Addr { get; }
    public ulong Size { get; }

    /// <summary>alloc_ldt_struct, then (KAISER) kaiser_add_mapping of the entries.</summary>
    public static Ldt Alloc(Kernel k, Process p, int entries)
    {
        ulong allocSize = (ulong)entries * LDT_ENTRY_SIZE;
        Ldt ldt;
        if (allocSize > PAGE_SIZE)
        {
            var area = k.Vmalloc.Alloc("vzalloc", (long)allocSize, PageOwnerKind.Ldt, p.Pid, $"alloc_ldt_struct+{p.Pid}");
            ldt = new Ldt(k, entries, -1, area, area.Addr, area.Size);
        }
        else
        {
            long pfn = k.Buddy.AllocPages(0, GfpFlags.GFP_KERNEL | GfpFlags.__GFP_ZERO, PageOwnerKind.Ldt, p.Pid);
            if (pfn < 0)
                throw new KernelErrnoException("modify_ldt", Errno.ENOMEM);
            ldt = new Ldt(k, entries, pfn, null, k.DirectMapAddress(pfn), PAGE_SIZE);
        }
        k.Kaiser?.AddMapping(ldt.Addr, ldt.Size, __PAGE_KERNEL);
        return ldt;
    }

    /// <summary>free_ldt_struct: kaiser_remove_mapping, then vfree or free_page.</summary>
    public void Free()
    {
        _k.Kaiser?.RemoveMapping(Addr, Size);
        if (_area is not null)
            _k.Vmalloc.Vfree(_area.Addr);
        else
            _k.Buddy.FreePages(_pagePfn, 0);
    }
}
