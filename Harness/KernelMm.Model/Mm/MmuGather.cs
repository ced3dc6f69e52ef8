namespace KernelMm.Model.Mm;

/// <summary>
/// struct mmu_gather (mm/mmu_gather.c): pages and page tables unmapped from an mm are
/// gathered, the TLB is flushed for the gathered range, and only then are they freed,
/// through release_pages. That order is what keeps freed frames out of every TLB.
/// </summary>
internal sealed class MmuGather(Kernel k, MmStruct mm)
{
    // Gathered pages in blocks of pfns (frames are below 2^31), growing to 16K pfns a
    // block: a zap of hundreds of GiB gathers hundreds of millions of them.
    private const int FirstBlockPages = 256, BlockPages = 1 << 14;
    private readonly List<int[]> _pages = [];
    private int _lastBlockUsed;
    private readonly List<long> _tables = [];
    private ulong _start = ulong.MaxValue, _end;
    private bool _freedTables;

    /// <summary>tlb_remove_page: a page whose mapping was zapped.</summary>
    public void RemovePage(long pfn, ulong addr)
    {
        if (_pages.Count == 0 || _lastBlockUsed == _pages[^1].Length)
        {
            _pages.Add(new int[_pages.Count == 0 ? FirstBlockPages : Math.Min(BlockPages, _pages[^1].Length * 2)]);
            _lastBlockUsed = 0;
        }
        _pages[^1][_lastBlockUsed++] = (int)pfn;
        TrackRange(addr, addr + 4096);
    }

    /// <summary>The range whose translations must go (tlb_flush_pte_range), for a cleared entry with no page to free.</summary>
    public void TrackRange(ulong start, ulong end)
    {
        _start = Math.Min(_start, start);
        _end = Math.Max(_end, end);
    }

    /// <summary>pte_free_tlb / pmd_free_tlb / pud_free_tlb: a table to free after the flush.</summary>
    public void RemoveTable(long pfn, ulong addr, ulong size)
    {
        _tables.Add(pfn);
        _freedTables = true;
        TrackRange(addr, addr + size);
    }

    /// <summary>
    /// tlb_finish_mmu: flush, then release_pages on the gathered pages and tables
    /// (uncharge_list, then the buddy allocator).
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
        foreach (var pfn in _tables)
        {
            k.Tlbs.CheckTableFree(pfn, k.Log, "tlb_finish_mmu");
            k.Tables.Remove(pfn);
            k.PageTablePages.Free(pfn, batched: true);
        }
        for (int b = 0; b < _pages.Count; b++)
        {
            var block = _pages[b];
            int n = b == _pages.Count - 1 ? _lastBlockUsed : block.Length;
            for (int i = 0; i < n; i++)
                k.ReleasePage(block[i]);
        }
        _pages.Clear();
        _lastBlockUsed = 0;
        _tables.Clear();
        _start = ulong.MaxValue;
        _end = 0;
        _freedTables = false;
    }

}
