using KernelMm.Model.Memory;
using KernelMm.Model.Paging;
using static KernelMm.Model.KernelLayout;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Boot;

/// <summary>
/// start_kernel, as far as memory goes: memblock reservations (the first megabyte, the
/// image, the memmap), the page tables of head_64.S and init_mem_mapping (direct map,
/// high kernel map, vmemmap), memblock_free_all, preallocate_vmalloc_pages, and at the
/// end of boot mark_rodata_ro, whose alias processing splits the first direct-map gigabyte.
/// </summary>
internal sealed class KernelBoot(Kernel k)
{
    /// <summary>sizeof(struct page) in the kernel, for the size of the memmap.</summary>
    private const long StructPageSize = 64;

    private readonly List<(long Start, long End)> _reserved = [];
    private long _memblockTop;

    public void Boot()
    {
        long nr = k.Options.NrPages;

        // memblock: the first megabyte (BIOS, real-mode trampoline), the image, the memmap
        // at the top of RAM (memblock allocates top-down), then early page tables below it.
        Reserve(0, (long)(ISA_END_ADDRESS >> PAGE_SHIFT), PageOwnerKind.Reserved);
        Reserve(k.Image.FirstPfn, k.Image.EndPfn, PageOwnerKind.KernelImage);
        long memmapPages = (long)RoundUp((ulong)(nr * StructPageSize), PMD_SIZE) >> PAGE_SHIFT;
        k.MemmapStartPfn = nr - memmapPages;
        Reserve(k.MemmapStartPfn, nr, PageOwnerKind.Reserved, ownerId: 1);
        _memblockTop = k.MemmapStartPfn;
        k.Frames[k.ZeroPfn].OwnerKind = PageOwnerKind.ZeroPage;

        BuildHighMap();
        BuildDirectMap();
        BuildVmemmap(nr);
        SetupPerCpuAreas();

        // memblock_free_all: everything not reserved goes to the buddy allocator.
        long pfn = 0;
        foreach (var (s, e) in _reserved.OrderBy(r => r.Start))
        {
            if (s > pfn)
                k.Buddy.FreeBootMemory(pfn, s);
            pfn = Math.Max(pfn, e);
        }
        if (pfn < nr)
            k.Buddy.FreeBootMemory(pfn, nr);
        k.ReservedPages = _reserved.Sum(r => r.End - r.Start);

        PreallocateVmallocPages();
        k.Kaiser?.Init(k.PerCpuAreas);
        k.Espfix.init_espfix_bsp();
        ForkIdleTasks();
        MarkRodataRo();
        k.SystemState = SystemState.SYSTEM_RUNNING;
        foreach (var tlb in k.Tlbs.Cpus)
            tlb.CurrentPgd = k.InitTopPgt;
    }

    private void Reserve(long start, long end, PageOwnerKind kind, int ownerId = 0)
    {
        k.Buddy.Reserve(start, end, kind, ownerId);
        _reserved.Add((start, end));
        k.ReservedRanges.Add((start, end));
    }

    /// <summary>memblock_alloc of one zeroed page for an early page table, top-down.</summary>
    private long MemblockAllocTable()
    {
        long pfn = MemblockAlloc(1, PageOwnerKind.KernelPageTable);
        k.Tables.Create(pfn);
        return pfn;
    }

    /// <summary>memblock_alloc, top-down below what was allocated before.</summary>
    private long MemblockAlloc(long pages, PageOwnerKind owner, int ownerId = 0)
    {
        _memblockTop -= pages;
        Reserve(_memblockTop, _memblockTop + pages, owner, ownerId);
        return _memblockTop;
    }

    /// <summary>Per-cpu unit size of the embedded first chunk (setup_per_cpu_areas).</summary>
    private const long PerCpuUnitPages = 32;

    /// <summary>setup_per_cpu_areas: one unit per CPU from memblock, reached through the direct map.</summary>
    private void SetupPerCpuAreas()
    {
        long first = MemblockAlloc(PerCpuUnitPages * k.Options.Cpus, PageOwnerKind.Reserved, ownerId: 2);
        k.PerCpuAreas = [.. Enumerable.Range(0, k.Options.Cpus).Select(c => k.DirectMapAddress(first + c * PerCpuUnitPages))];
    }

    /// <summary>
    /// fork_idle for the secondary CPUs: each idle task gets a kernel stack (the boot CPU's
    /// is init_stack, in the image), counted in nr_kernel_stack and, with KAISER, user-mapped.
    /// </summary>
    private void ForkIdleTasks()
    {
        for (int cpu = 1; cpu < k.Options.Cpus; cpu++)
        {
            long pfn = k.Buddy.AllocPages(Mm.Process.THREAD_SIZE_ORDER, GfpFlags.GFP_KERNEL, PageOwnerKind.KernelStack);
            k.IdleStacks.Add(pfn);
            k.VmStat.Mod(Stats.VmStatItem.NR_KERNEL_STACK_KB, Mm.Process.THREAD_SIZE >> 10);
            k.Kaiser?.AddMapping(k.DirectMapAddress(pfn) + (ulong)Mm.Process.THREAD_SIZE - PAGE_SIZE, PAGE_SIZE, __PAGE_KERNEL);
            k.Espfix.init_espfix_ap(cpu); // do_boot_cpu
        }
    }

    /// <summary>
    /// head_64.S: init_top_pgt[511] -&gt; level3_kernel_pgt[510] -&gt; level2_kernel_pgt, whose
    /// 2M entries map the image with __PAGE_KERNEL_LARGE_EXEC; cleanup_highmap leaves only
    /// [_text, roundup(_brk_end, PMD_SIZE)); level3_kernel_pgt[511] -&gt; level2_fixmap_pgt.
    /// </summary>
    private void BuildHighMap()
    {
        var pgd = k.Tables.Create(k.InitTopPgt);
        if (k.Options.Pti)
            k.Tables.Create(k.Image.InitShadowPgtPfn);
        var l3 = k.Tables.Create(k.Image.Level3KernelPgtPfn);
        var l2 = k.Tables.Create(k.Image.Level2KernelPgtPfn);
        pgd[pgd_index(__START_KERNEL_map)] = mk_table(k.Image.Level3KernelPgtPfn, _PAGE_TABLE);
        l3[pud_index(__START_KERNEL_map)] = mk_table(k.Image.Level2KernelPgtPfn, _KERNPG_TABLE);
        // level3_kernel_pgt[511] -> level2_fixmap_pgt: 506 none entries, FIXMAP_PMD_NUM
        // entries for level1_fixmap_pgt's PTE pages (_PAGE_TABLE), then "6 MB reserved space
        // + a 2MB hole" (head_64.S, 4.20-5.x). Nothing is mapped in them by the time the dump runs.
        var fixmapPmd = k.Tables.Create(k.Image.Level2FixmapPgtPfn);
        l3[PTRS_PER_TABLE - 1] = mk_table(k.Image.Level2FixmapPgtPfn, _PAGE_TABLE);
        for (int n = 0; n < KernelImage.FIXMAP_PMD_NUM; n++)
        {
            k.Tables.Create(k.Image.Level1FixmapPgtPfn + n);
            fixmapPmd[PTRS_PER_TABLE - 4 - KernelImage.FIXMAP_PMD_NUM + n] = mk_table(k.Image.Level1FixmapPgtPfn + n, _PAGE_TABLE);
        }
        ulong end = RoundUp(k.Image._brk_end, PMD_SIZE);
        for (ulong va = k.Image._text; va < end; va += PMD_SIZE)
            l2[pmd_index(va)] = pfn_pmd((long)(KernelImage.__pa_symbol(va) >> PAGE_SHIFT), k.massage_pgprot(__PAGE_KERNEL_LARGE_EXEC));
    }

    /// <summary>init_mem_mapping: the direct map at PAGE_OFFSET, its early tables from memblock.</summary>
    private void BuildDirectMap() => new InitMemoryMapping(k, MemblockAllocTable).init_mem_mapping();

    /// <summary>vmemmap_populate_hugepages: the memmap mapped with 2M PAGE_KERNEL_LARGE leaves at VMEMMAP_START.</summary>
    private void BuildVmemmap(long nr)
    {
        var pgd = k.Tables[k.InitTopPgt];
        ulong bytes = (ulong)(nr * StructPageSize);
        long memmapPfn = k.MemmapStartPfn;
        for (ulong off = 0; off < bytes; off += PMD_SIZE, memmapPfn += (long)(PMD_SIZE >> PAGE_SHIFT))
        {
            ulong va = VMEMMAP_START + off;
            int gi = pgd_index(va);
            if (pgd_none(pgd[gi]))
                pgd[gi] = mk_table(MemblockAllocTable(), _KERNPG_TABLE);
            var pud = k.Tables[pte_pfn(pgd[gi])];
            int ui = pud_index(va);
            if (pud_none(pud[ui]))
                pud[ui] = mk_table(MemblockAllocTable(), _KERNPG_TABLE);
            var pmd = k.Tables[pud_pfn(pud[ui])];
            pmd[pmd_index(va)] = pfn_pmd(memmapPfn, k.massage_pgprot(__PAGE_KERNEL_LARGE));
        }
    }

    /// <summary>
    /// preallocate_vmalloc_pages (5.8+): every PGD entry of the vmalloc area gets its PUD
    /// table at boot so that no pgd ever needs syncing; from the buddy allocator, as mem_init runs it.
    /// </summary>
    private void PreallocateVmallocPages()
    {
        var pgd = k.Tables[k.InitTopPgt];
        for (ulong va = VMALLOC_START; va <= VMALLOC_END && va >= VMALLOC_START; va += PGDIR_SIZE)
        {
            int gi = pgd_index(va);
            if (!pgd_none(pgd[gi]))
                continue;
            long pfn = k.AllocKernelTable(PageLevel.PG_LEVEL_1G);
            pgd[gi] = mk_table(pfn, _KERNPG_TABLE);
        }
    }

    /// <summary>
    /// mark_rodata_ro: set_memory_ro on [_text, __end_rodata_hpage_align), then
    /// kernel_set_to_readonly, then set_memory_nx on [_etext, roundup(_brk_end, PMD_SIZE)).
    /// The alias of the read-only range in the direct map is made read-only too, which
    /// splits the first direct-map gigabyte into 2M pages.
    /// </summary>
    private void MarkRodataRo()
    {
        ulong start = k.Image._text;
        ulong end = k.Image.__end_rodata_hpage_align;
        k.SetMemory.ReadOnly(start, (long)((end - start) >> PAGE_SHIFT));
        k.KernelSetToReadonly = true;
        ulong allEnd = RoundUp(k.Image._brk_end, PMD_SIZE);
        k.SetMemory.NoExec(k.Image._etext, (long)((allEnd - k.Image._etext) >> PAGE_SHIFT));
    }
}
