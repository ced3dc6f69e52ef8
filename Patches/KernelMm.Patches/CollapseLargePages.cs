using KernelMm.Model;
using KernelMm.Model.Boot;
using KernelMm.Model.Cpa;
using KernelMm.Model.Paging;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Patches;

/// <summary>
/// Upstream descendant of restore-large-pages: "x86/mm/pat: restore large ROX pages after
/// fragmentation" (Kirill A. Shutemov and Mike Rapoport, [PATCH v3 3/9] of the execmem ROX
/// series, 2025-01-26, commit 41d88484c71c, merged for v6.15), read in that posting's
/// set_memory.c. The collapse runs only for a request that carries CPA_COLLAPSE, which only
/// set_memory_rox sets, and at the end of cpa_flush, after the request's own flush: for each
/// PMD-aligned step of [addr &amp; PMD_MASK, addr + numpages pages) (each page of an array
/// request) collapse_large_pages looks at the PMD entry under pgd_lock; a PTE table whose
/// first entry is 2M-aligned and not _PAGE_KERNEL_4K and whose 512 entries are present with
/// equal pte_flags and consecutive pfns becomes a 2M leaf, and only then is the PUD of that
/// 1G tried (direct_gbpages; 512 2M leaves, equal pmd_flags, consecutive, 1G-aligned).
/// collapse_page_count moves DirectMap4k/2M/1G back and counts direct_map_level2_collapses
/// and direct_map_level3_collapses once the system runs, for a direct-map or image address
/// whose pfn is mapped. If anything collapsed, flush_tlb_all, then the tables are freed.
/// set_memory_4k sets _PAGE_KERNEL_4K. Against the RFC: no collapse on other set_memory
/// calls, PMD-sized steps from the aligned start (no straddling gap), no whole-1G scan, and
/// the counters follow. Its aliases are not collapsed (cpa_flush sees the primary request
/// only), so module text's direct-map alias stays split. The June 2025 follow-up "don't
/// collapse pages without PSE set" changes nothing here: the model's CPU has PSE.
/// </summary>
public sealed class CollapseLargePages() : Descendant(
    id: "collapse-large-pages",
    order: 3,
    title: "x86/mm/pat: restore large ROX pages after fragmentation",
    merged: "v6.15",
    commit: "41d88484c71c",
    of: "restore-large-pages",
    changes: "set_memory_rox passes CPA_COLLAPSE; cpa_flush then collapses each 2M step of the request whose 512 PTEs agree into a 2M leaf, and its 1G into a 1G leaf if all 512 PMDs agree, updating DirectMap and counting direct_map_level2/3_collapses; flush, then free. set_memory_4k sets _PAGE_KERNEL_4K.")
{
    public const string Level2Event = "direct_map_level2_collapses";
    public const string Level3Event = "direct_map_level3_collapses";

    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Kernel, Instance> _instances = new();

    /// <summary>The patch's state in one kernel.</summary>
    public Instance For(Kernel k) => _instances.TryGetValue(k, out var i) ? i : throw new InvalidOperationException("collapse-large-pages is not applied to this kernel");

    public override void Apply(Kernel k)
    {
        var i = new Instance(k);
        _instances.Add(k, i);
        k.SetMemory.FourKMaskSet |= _PAGE_KERNEL_4K;
        k.SetMemory.RoxFlags |= CpaFlags.CPA_COLLAPSE;
        var after = k.Cpa.AfterCpaFlush;
        k.Cpa.AfterCpaFlush = cpa =>
        {
            after?.Invoke(cpa);
            if ((cpa.Flags & CpaFlags.CPA_COLLAPSE) != 0)
                i.CpaCollapseLargePages(cpa);
        };
    }

    /// <summary>collapse-large-pages in one kernel: its vm events and what it collapsed.</summary>
    public sealed class Instance
    {
        private readonly Kernel _k;
        private readonly int _level2, _level3;

        internal Instance(Kernel k)
        {
            _k = k;
            _level2 = k.VmStat.RegisterEvent(Level2Event, after: "direct_map_level3_splits");
            _level3 = k.VmStat.RegisterEvent(Level3Event, after: Level2Event);
        }

        /// <summary>Large pages collapsed since boot, by level (whatever the address).</summary>
        public long Collapsed2M { get; private set; }
        public long Collapsed1G { get; private set; }

        /// <summary>cpa_collapse_large_pages: collapse, then one flush_tlb_all and the frees, if anything collapsed.</summary>
        internal void CpaCollapseLargePages(CpaData cpa)
        {
            var pgtables = new List<long>();
            int collapsed = 0;
            if ((cpa.Flags & (CpaFlags.CPA_PAGES_ARRAY | CpaFlags.CPA_ARRAY)) != 0)
            {
                for (long i = 0; i < cpa.NumPages; i++)
                    collapsed += CollapseLargePagesAt(cpa.Addr(i), pgtables);
            }
            else
            {
                ulong addr = cpa.Addr(0);
                ulong start = addr & PMD_MASK;
                ulong end = addr + PAGE_SIZE * (ulong)cpa.NumPages;
                for (addr = start; addr >= start && addr < end; addr += PMD_SIZE)
                    collapsed += CollapseLargePagesAt(addr, pgtables);
            }
            if (collapsed == 0)
                return;
            if ((_k.Faults & Model.Diagnostics.FaultInjection.SkipTlbFlush) == 0)
                _k.Tlbs.flush_tlb_all();
            foreach (var pfn in pgtables)
                _k.FreeTablePage(pfn, "cpa_collapse_large_pages");
        }

        /// <summary>collapse_large_pages: the PMD entry of <paramref name="addr"/>, if it points at a PTE table; then its PUD if the PMD collapsed.</summary>
        private int CollapseLargePagesAt(ulong addr, List<long> pgtables)
        {
            addr &= PMD_MASK;
            ulong pgd = _k.Tables[_k.InitTopPgt][pgd_index(addr)];
            if (pgd_none(pgd))
                return 0;
            var pudTable = _k.Tables[pte_pfn(pgd)];
            int ui = pud_index(addr);
            ulong pud = pudTable[ui];
            if (!pud_present(pud) || pud_large(pud))
                return 0;
            var pmdTable = _k.Tables[pud_pfn(pud)];
            int mi = pmd_index(addr);
            ulong pmd = pmdTable[mi];
            if (!pmd_present(pmd) || pmd_large(pmd))
                return 0;
            int collapsed = CollapsePmdPage(pmdTable, mi, addr, pgtables);
            if (collapsed != 0)
                collapsed += CollapsePudPage(pudTable, ui, addr, pgtables);
            return collapsed;
        }

        private int CollapsePmdPage(PageTable pmdTable, int mi, ulong addr, List<long> pgtables)
        {
            long ptePfn = pmd_pfn(pmdTable[mi]);
            var pte = _k.Tables[ptePfn];
            ulong first = pte[0];
            long pfn = pte_pfn(first);
            if ((((ulong)pfn << PAGE_SHIFT) & ~PMD_MASK) != 0)
                return 0;                                   // alignment
            if ((pte_flags(first) & _PAGE_KERNEL_4K) != 0)
                return 0;                                   // 4K on purpose (set_memory_4k)
            for (int i = 1; i < PTRS_PER_TABLE; i++)
            {
                ulong entry = pte[i];
                if (!pte_present(entry) || pte_flags(entry) != pte_flags(first) || pte_pfn(entry) != pfn + i)
                    return 0;
            }
            pmdTable[mi] = pfn_pmd(pfn, pgprot_4k_2_large(pte_flags(first)) | _PAGE_PSE);
            pgtables.Add(ptePfn);
            Collapsed2M++;
            if (_k.virt_addr_valid(addr) && _k.pfn_range_is_mapped(pfn, pfn + 1))
                CollapsePageCount(PageLevel.PG_LEVEL_2M);
            return 1;
        }

        private int CollapsePudPage(PageTable pudTable, int ui, ulong addr, List<long> pgtables)
        {
            if (!_k.Options.GbPages)
                return 0;                                   // direct_gbpages
            addr &= PUD_MASK;
            long pmdPfn = pud_pfn(pudTable[ui]);
            var pmd = _k.Tables[pmdPfn];
            ulong first = pmd[0];
            long pfn = pmd_pfn(first);
            if (!pmd_large(first) || (((ulong)pfn << PAGE_SHIFT) & ~PUD_MASK) != 0)
                return 0;
            for (int i = 1; i < PTRS_PER_TABLE; i++)
            {
                ulong entry = pmd[i];
                if (!pmd_present(entry) || !pmd_large(entry) || pmd_flags(entry) != pmd_flags(first) || pmd_pfn(entry) != pfn + i * PTRS_PER_TABLE)
                    return 0;
            }
            pgtables.Add(pmdPfn);
            pudTable[ui] = pfn_pud(pfn, pmd_flags(first));
            Collapsed1G++;
            if (_k.virt_addr_valid(addr) && _k.pfn_range_is_mapped(pfn, pfn + 1))
                CollapsePageCount(PageLevel.PG_LEVEL_1G);
            return 1;
        }

        /// <summary>collapse_page_count: the inverse of split_page_count, with its vm event once the system runs.</summary>
        private void CollapsePageCount(PageLevel level)
        {
            _k.DirectMap.update_page_count(level, 1);
            if (_k.SystemState == SystemState.SYSTEM_RUNNING)
                _k.VmStat.ModExtra(level == PageLevel.PG_LEVEL_2M ? _level2 : _level3, 1);
            _k.DirectMap.update_page_count(level - 1, -PTRS_PER_TABLE);
        }
    }
}
