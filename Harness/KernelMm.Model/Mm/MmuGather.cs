namespace KernelMm.Model.Mm;

/// <summary>
/// struct mmu_gather (mm/memory.c in 2015, mm/mmu_gather.c since 4.19): pages and page
/// tables unmapped from an mm are gathered, the TLB is flushed for the gathered range, and
/// only then are they freed, through release_pages. That order is what keeps freed frames
/// out of every TLB. x86 without RCU table freeing (the 2015 kernel the model's kmemcg is)
/// frees a table as it frees a page: ___pte_free_tlb, ___pmd_free_tlb and ___pud_free_tlb
/// (arch/x86/mm/pgtable.c) run the destructor and call tlb_remove_page, so a table joins the
/// same batch as the pages, in the order the zap and free_pgtables reached them, and
/// release_pages frees the batch in that order. (release_pages' own list and the per-CPU
/// page lists it feeds are not modelled: the buddy allocator gets the pages in gather order.)
/// </summary>
internal sealed class MmuGather(Kernel k, MmStruct mm)
{
    // The batch in gather order, in blocks of pfns (frames are below 2^31; a table is
    // kept as ~pfn), growing to 16K a block: a zap of hundreds of GiB gathers hundreds of
    // millions of pages.
    private const int FirstBlockPages = 256, BlockPages = 1 << 14;
    private readonly List<int[]> _pages = [];
    private int _lastBlockUsed;
    private ulong _start = ulong.MaxValue, _end;
    private bool _freedTables;
    // The block being filled (the last of _pages), kept in a field for the per-page Add.
    private int[] _block = [];

    /// <summary>tlb_remove_page: a page whose mapping was zapped (its range tracked as well).</summary>
    public void RemovePage(long pfn, ulong addr)
    {
        Add((int)pfn);
        TrackRange(addr, addr + 4096);
    }

    /// <summary>tlb_remove_page for a caller that tracks the zapped range itself (<see cref="TrackRange"/>), once per table.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public void RemovePage(long pfn) => Add((int)pfn);

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private void Add(int entry)
    {
        if (_lastBlockUsed == _block.Length)
            NewBlock();
        _block[_lastBlockUsed++] = entry;
    }

    private void NewBlock()
    {
        _block = new int[_pages.Count == 0 ? FirstBlockPages : Math.Min(BlockPages, _pages[^1].Length * 2)];
        _pages.Add(_block);
        _lastBlockUsed = 0;
    }

    /// <summary>The range whose translations must go (__tlb_adjust_range): a table's zapped entries at once, or a cleared entry with no page to free.</summary>
    public void TrackRange(ulong start, ulong end)
    {
        _start = Math.Min(_start, start);
        _end = Math.Max(_end, end);
    }

    /// <summary>pte_free_tlb / pmd_free_tlb / pud_free_tlb: a table to free after the flush, next in the batch (tlb_remove_page).</summary>
    public void RemoveTable(long pfn, ulong addr, ulong size)
    {
        Add(~(int)pfn);
        _freedTables = true;
        TrackRange(addr, addr + size);
    }

    /// <summary>
    /// tlb_finish_mmu: flush, then release_pages on the batch, pages and tables in the order
    /// gathered (uncharge_list, then the buddy allocator).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public void Finish()
    {
        if (_end > _start && (k.Faults & Diagnostics.FaultInjection.SkipTlbFlush) == 0)
        {
            // Freed tables mean paging-structure caches must go too: a full flush of the mm.
            if (_freedTables)
                k.FlushTlbMm(mm, check: false);
            else
                k.FlushTlbMmRange(mm, _start, _end, check: false);
        }
        if (_end > _start)
            k.FlushPoint("tlb_finish_mmu", Tlb.FlushScope.Mm(mm.Pgd));
        for (int b = 0; b < _pages.Count; b++)
        {
            var block = _pages[b];
            int n = b == _pages.Count - 1 ? _lastBlockUsed : block.Length;
            for (int i = 0; i < n; i++)
            {
                int entry = block[i];
                if (entry >= 0)
                {
                    k.ReleasePage(entry);
                    continue;
                }
                long table = ~entry;
                k.Tlbs.CheckTableFree(table, k.Log, "tlb_finish_mmu");
                k.Tables.Remove(table);
                k.PageTablePages.Free(table, batched: true);
            }
        }
        _pages.Clear();
        _block = [];
        _lastBlockUsed = 0;
        _start = ulong.MaxValue;
        _end = 0;
        _freedTables = false;
    }

}
