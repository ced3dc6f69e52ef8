namespace KernelMm.Model.Memory;

/// <summary>
/// __dump_page (mm/debug.c, 5.9) of the model's struct page, line by line: the
/// refcount/mapcount line, the flags line with %pGp's names, the reason and the memcg.
/// Left out: the "raw:" hex lines (the model's struct page keeps 16 bytes, not the kernel's
/// 64, so their words would be invented) and dump_page_owner (page_owner is off).
/// </summary>
public static class DumpPage
{
    /// <summary>sizeof(struct page) on x86-64: the stride of the vmemmap array.</summary>
    public const int STRUCT_PAGE_SIZE = 64;

    /// <summary>PG_table of page_type (include/linux/page-flags.h, 4.18+): cleared from a -1 _mapcount word.</summary>
    public const int PG_table_type = 0x400;

    /// <summary>ZONES_PGSHIFT with NODES_SHIFT 6 and no last_cpupid in page->flags (no NUMA balancing): zone in bits 56-57.</summary>
    public const int ZONES_PGSHIFT = 56;

    /// <summary>
    /// The page->_mapcount word as the kernel reads it: since 4.18 PageTable is the page_type
    /// bit 0x400 cleared in the same word, so a page table reads -1025 (mapcount -1024).
    /// </summary>
    public static int MapcountWord(Page page) =>
        page.Has(PageFlags.PG_table) ? page.MapCount & ~PG_table_type : page.MapCount;

    /// <summary>enum pageflags bit numbers of 5.9 (include/linux/page-flags.h) for the flags the model keeps, in %pGp's order.</summary>
    private static readonly (PageFlags Flag, int Bit, string Name)[] Names =
    [
        (PageFlags.PG_locked, 0, "locked"),
        (PageFlags.PG_referenced, 1, "referenced"),
        (PageFlags.PG_uptodate, 2, "uptodate"),
        (PageFlags.PG_dirty, 3, "dirty"),
        (PageFlags.PG_lru, 4, "lru"),
        (PageFlags.PG_active, 5, "active"),
        (PageFlags.PG_slab, 9, "slab"),
        (PageFlags.PG_reserved, 12, "reserved"),
        (PageFlags.PG_private, 13, "private"),
        (PageFlags.PG_writeback, 15, "writeback"),
        (PageFlags.PG_head, 16, "head"),
        (PageFlags.PG_swapbacked, 19, "swapbacked"),
        (PageFlags.PG_mlocked, 21, "mlocked"),
        (PageFlags.PG_hwpoison, 23, "hwpoison"),
    ];

    /// <summary>page->flags: the page flags in their kernel bits, the zone above them (PG_anon is page->mapping's bit, PG_table a page_type: neither is here).</summary>
    public static ulong KernelFlags(Page page, ZoneType zone)
    {
        ulong flags = (ulong)zone << ZONES_PGSHIFT;
        foreach (var (flag, bit, _) in Names)
            if (page.Has(flag))
                flags |= 1UL << bit;
        return flags;
    }

    /// <summary>The lines __dump_page prints for <paramref name="pfn"/>, with <paramref name="memcg"/> the name of the cgroup it is charged to (null: none).</summary>
    public static IEnumerable<string> Lines(long pfn, Page page, ZoneType zone, string reason, string? memcg)
    {
        // page:%px refcount:%d mapcount:%d mapping:%p index:%#lx (page_mapcount is _mapcount + 1).
        ulong structPage = KernelLayout.VMEMMAP_START + (ulong)pfn * STRUCT_PAGE_SIZE;
        yield return $"page:{structPage:x16} refcount:{page.RefCount} mapcount:{MapcountWord(page) + 1} mapping:0000000000000000 index:0x0";
        string names = string.Join('|', Names.Where(n => page.Has(n.Flag)).Select(n => n.Name));
        yield return $"flags: 0x{KernelFlags(page, zone):x}({names})";
        yield return $"page dumped because: {reason}";
        // page->mem_cgroup:%px: the model has no struct mem_cgroup address; it prints the cgroup's name there.
        if (memcg is not null)
            yield return $"page->mem_cgroup:{memcg}";
    }
}
