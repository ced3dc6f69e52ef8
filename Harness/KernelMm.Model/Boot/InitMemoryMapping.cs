using KernelMm.Model.Paging;
using static KernelMm.Model.KernelLayout;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Boot;

/// <summary>
/// init_mem_mapping of arch/x86/mm/init.c with the x86-64 kernel_physical_mapping_init of
/// arch/x86/mm/init_64.c (4.20-5.x, torvalds/linux): the ISA range first with
/// init_memory_mapping(0, ISA_END_ADDRESS), then memory_map_top_down(ISA_END_ADDRESS, end)
/// in growing steps; each init_memory_mapping cuts its range with split_mem_range (4K head,
/// 2M, 1G, 2M and 4K tails), widens a range's page size with adjust_range_page_size_mask
/// where the surrounding 2M or 1G is all memory, and maps it with phys_pud/pmd/pte_init,
/// each level calling update_page_count. An entry a later step finds already mapped is
/// reused and counted again (`if (!after_bootmem) pages++`): DirectMap then says more than
/// the leaves map, as it does on real machines (this host: 25 1G entries counted for 23
/// 1G leaves, the same numbers this code gives for its e820 map).
/// </summary>
internal sealed class InitMemoryMapping
{
    private const int PG_LEVEL_2M_BIT = 1 << (int)PageLevel.PG_LEVEL_2M;
    private const int PG_LEVEL_1G_BIT = 1 << (int)PageLevel.PG_LEVEL_1G;

    private readonly Kernel _k;
    private readonly Func<long> _allocLowPage;
    private readonly (ulong Start, ulong End)[] _memory;
    private readonly int _pageSizeMask;

    /// <param name="k">The kernel being booted.</param>
    /// <param name="allocLowPage">alloc_low_page: one zeroed early table page.</param>
    public InitMemoryMapping(Kernel k, Func<long> allocLowPage)
    {
        _k = k;
        _allocLowPage = allocLowPage;
        ulong end = (ulong)k.Options.NrPages << PAGE_SHIFT;
        // memblock.memory from a PC's e820 (SeaBIOS/QEMU and this host alike): usable
        // [0, 0x9fc00), the legacy VGA/BIOS hole, usable from 1 MiB. The hole is why the
        // first 2M never gets a large page: adjust_range_page_size_mask finds [0, 2M) not all memory.
        _memory = [(0, E820_LOW_RAM_END), (ISA_END_ADDRESS, end)];
        // probe_page_size_mask: 2M always (PSE), 1G with direct_gbpages.
        _pageSizeMask = PG_LEVEL_2M_BIT | (k.Options.GbPages ? PG_LEVEL_1G_BIT : 0);
    }

    /// <summary>The end of the low usable e820 range below the legacy hole.</summary>
    public const ulong E820_LOW_RAM_END = 0x9fc00;

    /// <summary>init_mem_mapping: the ISA range always (regardless of holes), then the rest top-down.</summary>
    public void init_mem_mapping()
    {
        ulong end = (ulong)_k.Options.NrPages << PAGE_SHIFT;
        init_memory_mapping(0, ISA_END_ADDRESS);
        memory_map_top_down(ISA_END_ADDRESS, end);
    }

    /// <summary>
    /// memory_map_top_down: from real_end down to map_start in steps that start at PMD_SIZE
    /// and grow 32-fold once as much is mapped (get_new_step_size), then [real_end, map_end).
    /// real_end is the top of the highest free 2M block: at this point of setup_arch only the
    /// first megabyte and the image are reserved (the memmap comes later, in sparse_init).
    /// </summary>
    private void memory_map_top_down(ulong map_start, ulong map_end)
    {
        ulong real_end = map_end & ~(PMD_SIZE - 1);
        ulong step_size = PMD_SIZE;
        ulong mapped_ram_size = 0;
        ulong last_start = real_end;
        while (last_start > map_start)
        {
            ulong start;
            if (last_start > step_size)
            {
                start = (last_start - 1) & ~(step_size - 1);
                if (start < map_start)
                    start = map_start;
            }
            else
            {
                start = map_start;
            }
            mapped_ram_size += init_range_memory_mapping(start, last_start);
            last_start = start;
            if (mapped_ram_size >= step_size)
                step_size <<= 5;
        }
        if (real_end < map_end)
            init_range_memory_mapping(real_end, map_end);
    }

    /// <summary>init_range_memory_mapping: init_memory_mapping of each memory range clamped to [r_start, r_end).</summary>
    private ulong init_range_memory_mapping(ulong r_start, ulong r_end)
    {
        ulong mapped = 0;
        foreach (var (s, e) in _memory)
        {
            // for_each_mem_pfn_range: PFN_UP(base), PFN_DOWN(end).
            ulong start = Math.Clamp(RoundUp(s, PAGE_SIZE), r_start, r_end);
            ulong end = Math.Clamp(e & PAGE_MASK, r_start, r_end);
            if (start >= end)
                continue;
            init_memory_mapping(start, end);
            mapped += end - start;
        }
        return mapped;
    }

    /// <summary>init_memory_mapping: split_mem_range, kernel_physical_mapping_init of each part, add_pfn_range_mapped.</summary>
    private void init_memory_mapping(ulong start, ulong end)
    {
        foreach (var mr in split_mem_range(start, end))
            kernel_physical_mapping_init(mr.Start, mr.End, mr.PageSizeMask);
        _k.MaxPfnMapped = Math.Max(_k.MaxPfnMapped, (long)(end >> PAGE_SHIFT));
    }

    internal readonly record struct MapRange(ulong Start, ulong End, int PageSizeMask);

    /// <summary>split_mem_range (x86-64): 4K head up to 2M alignment, 2M up to 1G alignment, 1G, 2M tail, 4K tail; adjusted; merged.</summary>
    internal List<MapRange> split_mem_range(ulong start, ulong end)
    {
        const ulong pmdPages = PMD_SIZE >> PAGE_SHIFT, pudPages = PUD_SIZE >> PAGE_SHIFT;
        var mr = new List<MapRange>();
        ulong limit_pfn = end >> PAGE_SHIFT;
        ulong pfn = start >> PAGE_SHIFT, start_pfn = pfn;
        ulong end_pfn = Math.Min(RoundUp(pfn, pmdPages), limit_pfn);
        if (start_pfn < end_pfn)
        {
            Save(start_pfn, end_pfn, 0);
            pfn = end_pfn;
        }
        start_pfn = RoundUp(pfn, pmdPages);
        end_pfn = Math.Min(RoundUp(pfn, pudPages), RoundDown(limit_pfn, pmdPages));
        if (start_pfn < end_pfn)
        {
            Save(start_pfn, end_pfn, _pageSizeMask & PG_LEVEL_2M_BIT);
            pfn = end_pfn;
        }
        start_pfn = RoundUp(pfn, pudPages);
        end_pfn = RoundDown(limit_pfn, pudPages);
        if (start_pfn < end_pfn)
        {
            Save(start_pfn, end_pfn, _pageSizeMask & (PG_LEVEL_2M_BIT | PG_LEVEL_1G_BIT));
            pfn = end_pfn;
        }
        start_pfn = RoundUp(pfn, pmdPages);
        end_pfn = RoundDown(limit_pfn, pmdPages);
        if (start_pfn < end_pfn)
        {
            Save(start_pfn, end_pfn, _pageSizeMask & PG_LEVEL_2M_BIT);
            pfn = end_pfn;
        }
        Save(pfn, limit_pfn, 0);

        adjust_range_page_size_mask(mr);
        for (int i = 0; mr.Count > 1 && i < mr.Count - 1; i++)
        {
            if (mr[i].End != mr[i + 1].Start || mr[i].PageSizeMask != mr[i + 1].PageSizeMask)
                continue;
            mr[i] = mr[i] with { End = mr[i + 1].End };
            mr.RemoveAt(i + 1);
            i--;
        }
        return mr;

        void Save(ulong s, ulong e, int mask)
        {
            if (s < e)
                mr.Add(new MapRange(s << PAGE_SHIFT, e << PAGE_SHIFT, mask));
        }
    }

    /// <summary>adjust_range_page_size_mask: a range gets 2M (1G) pages where its surrounding 2M (1G) is all memory.</summary>
    private void adjust_range_page_size_mask(List<MapRange> mr)
    {
        for (int i = 0; i < mr.Count; i++)
        {
            var r = mr[i];
            if ((_pageSizeMask & PG_LEVEL_2M_BIT) != 0 && (r.PageSizeMask & PG_LEVEL_2M_BIT) == 0
                && memblock_is_region_memory(RoundDown(r.Start, PMD_SIZE), RoundUp(r.End, PMD_SIZE)))
                r = r with { PageSizeMask = r.PageSizeMask | PG_LEVEL_2M_BIT };
            if ((_pageSizeMask & PG_LEVEL_1G_BIT) != 0 && (r.PageSizeMask & PG_LEVEL_1G_BIT) == 0
                && memblock_is_region_memory(RoundDown(r.Start, PUD_SIZE), RoundUp(r.End, PUD_SIZE)))
                r = r with { PageSizeMask = r.PageSizeMask | PG_LEVEL_1G_BIT };
            mr[i] = r;
        }
    }

    /// <summary>memblock_is_region_memory: [start, end) lies inside one memory region.</summary>
    private bool memblock_is_region_memory(ulong start, ulong end)
    {
        foreach (var (s, e) in _memory)
            if (start >= s && start < e)
                return end <= e;
        return false;
    }

    private bool e820__mapped_any(ulong start, ulong end)
    {
        foreach (var (s, e) in _memory)
            if (start < e && end > s)
                return true;
        return false;
    }

    /// <summary>kernel_physical_mapping_init (4-level: phys_p4d_init is phys_pud_init).</summary>
    private void kernel_physical_mapping_init(ulong paddr_start, ulong paddr_end, int page_size_mask)
    {
        var pgd = _k.Tables[_k.InitTopPgt];
        ulong vaddr_end = __va(paddr_end);
        for (ulong vaddr = __va(paddr_start), vaddr_next; vaddr < vaddr_end; vaddr = vaddr_next)
        {
            vaddr_next = (vaddr & ~(PGDIR_SIZE - 1)) + PGDIR_SIZE;
            int gi = pgd_index(vaddr);
            if (!pgd_none(pgd[gi]))
            {
                phys_pud_init(_k.Tables[pte_pfn(pgd[gi])], __pa(vaddr), __pa(vaddr_end), page_size_mask);
                continue;
            }
            long pud = _allocLowPage();
            phys_pud_init(_k.Tables[pud], __pa(vaddr), __pa(vaddr_end), page_size_mask);
            pgd[gi] = mk_table(pud, _KERNPG_TABLE);
        }
    }

    private ulong PAGE_KERNEL => _k.massage_pgprot(__PAGE_KERNEL);

    private void phys_pud_init(PageTable pudPage, ulong paddr, ulong paddr_end, int page_size_mask)
    {
        long pages = 0;
        for (int i = pud_index(__va(paddr)); i < PTRS_PER_TABLE; i++)
        {
            ulong paddr_next = (paddr & ~(PUD_SIZE - 1)) + PUD_SIZE;
            ulong prot = PAGE_KERNEL;
            if (paddr >= paddr_end)
            {
                if (!e820__mapped_any(paddr & ~(PUD_SIZE - 1), paddr_next))
                    pudPage[i] = 0;
                paddr = paddr_next;
                continue;
            }
            ulong pud = pudPage[i];
            if (!pud_none(pud))
            {
                if (!pud_large(pud))
                {
                    phys_pmd_init(_k.Tables[pud_pfn(pud)], paddr, paddr_end, page_size_mask, prot);
                    paddr = paddr_next;
                    continue;
                }
                if ((page_size_mask & PG_LEVEL_1G_BIT) != 0)
                {
                    pages++;
                    _k.DirectMap.NoteBootOvercount(PageLevel.PG_LEVEL_1G, 1);
                    paddr = paddr_next;
                    continue;
                }
                // The 1G leaf becomes a table of its own prot; its count is never taken back.
                prot = pte_flags(pud) & ~_PAGE_PSE;
                _k.DirectMap.NoteBootOvercount(PageLevel.PG_LEVEL_1G, 1);
            }
            if ((page_size_mask & PG_LEVEL_1G_BIT) != 0)
            {
                pages++;
                pudPage[i] = pfn_pud((long)((paddr & ~(PUD_SIZE - 1)) >> PAGE_SHIFT), _k.massage_pgprot(__PAGE_KERNEL_LARGE));
                paddr = paddr_next;
                continue;
            }
            long pmd = _allocLowPage();
            phys_pmd_init(_k.Tables[pmd], paddr, paddr_end, page_size_mask, prot);
            pudPage[i] = mk_table(pmd, _KERNPG_TABLE);
            paddr = paddr_next;
        }
        _k.DirectMap.update_page_count(PageLevel.PG_LEVEL_1G, pages);
    }

    private void phys_pmd_init(PageTable pmdPage, ulong paddr, ulong paddr_end, int page_size_mask, ulong prot)
    {
        long pages = 0;
        for (int i = pmd_index(paddr); i < PTRS_PER_TABLE; i++)
        {
            ulong paddr_next = (paddr & ~(PMD_SIZE - 1)) + PMD_SIZE;
            ulong new_prot = prot;
            if (paddr >= paddr_end)
            {
                if (!e820__mapped_any(paddr & ~(PMD_SIZE - 1), paddr_next))
                    pmdPage[i] = 0;
                paddr = paddr_next;
                continue;
            }
            ulong pmd = pmdPage[i];
            if (!pmd_none(pmd))
            {
                if (!pmd_large(pmd))
                {
                    phys_pte_init(_k.Tables[pmd_pfn(pmd)], paddr, paddr_end, prot);
                    paddr = paddr_next;
                    continue;
                }
                if ((page_size_mask & PG_LEVEL_2M_BIT) != 0)
                {
                    pages++;
                    _k.DirectMap.NoteBootOvercount(PageLevel.PG_LEVEL_2M, 1);
                    paddr = paddr_next;
                    continue;
                }
                new_prot = pte_flags(pmd) & ~_PAGE_PSE;
                _k.DirectMap.NoteBootOvercount(PageLevel.PG_LEVEL_2M, 1);
            }
            if ((page_size_mask & PG_LEVEL_2M_BIT) != 0)
            {
                pages++;
                pmdPage[i] = pfn_pmd((long)((paddr & ~(PMD_SIZE - 1)) >> PAGE_SHIFT), prot | _PAGE_PSE);
                paddr = paddr_next;
                continue;
            }
            long pte = _allocLowPage();
            phys_pte_init(_k.Tables[pte], paddr, paddr_end, new_prot);
            pmdPage[i] = mk_table(pte, _KERNPG_TABLE);
            paddr = paddr_next;
        }
        _k.DirectMap.update_page_count(PageLevel.PG_LEVEL_2M, pages);
    }

    private void phys_pte_init(PageTable ptePage, ulong paddr, ulong paddr_end, ulong prot)
    {
        long pages = 0;
        for (int i = pte_index(paddr); i < PTRS_PER_TABLE; i++, paddr = (paddr & PAGE_MASK) + PAGE_SIZE)
        {
            if (paddr >= paddr_end)
            {
                if (!e820__mapped_any(paddr & PAGE_MASK, (paddr & PAGE_MASK) + PAGE_SIZE))
                    ptePage[i] = 0;
                continue;
            }
            if (!pte_none(ptePage[i]))
            {
                pages++;
                _k.DirectMap.NoteBootOvercount(PageLevel.PG_LEVEL_4K, 1);
                continue;
            }
            pages++;
            ptePage[i] = pfn_pte((long)(paddr >> PAGE_SHIFT), prot);
        }
        _k.DirectMap.update_page_count(PageLevel.PG_LEVEL_4K, pages);
    }

    private static ulong RoundDown(ulong x, ulong align) => x & ~(align - 1);
}
