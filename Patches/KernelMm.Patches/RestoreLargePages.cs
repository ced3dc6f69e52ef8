using KernelMm.Model;
using KernelMm.Model.Cpa;
using KernelMm.Model.Paging;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Patches;

/// <summary>
/// Patch 4: "x86/mm/pat: Restore large pages after fragmentation" (Kirill A. Shutemov, RFC,
/// linux-mm, 2020-04-16), as posted. On every cpa_flush, before flushing, the PUD_SIZE
/// regions around the request are scanned under pgd_lock: 512 present PTEs with equal
/// pte_flags, contiguous pfns, a 2M-aligned first pfn and no _PAGE_KERNEL_4K become one 2M
/// leaf; 512 2M leaves with equal pmd_flags, contiguous and 1G-aligned, become a 1G leaf
/// when direct_gbpages. Freed tables are queued, all TLBs are flushed if any were, then the
/// tables are freed. set_memory_4k sets _PAGE_KERNEL_4K.
/// What the RFC does and the model keeps: it never updates the DirectMap counters; it
/// steps PUD_SIZE from the unaligned start of a range (a range that straddles a 1G
/// boundary within less than 1G only visits the first region); a CPA_ARRAY request is
/// scanned as a range from its first address; and it collapses any kernel mapping it
/// scans (vmalloc and module space too), scanning the whole 1G each time.
/// </summary>
public sealed class RestoreLargePages : Patch
{
    private readonly bool _freeBeforeFlush;
    // One patch object serves every kernel of the matrix (in parallel): state is per kernel.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Kernel, Instance> _instances = new();

    public RestoreLargePages() : this(freeBeforeFlush: false)
    {
    }

    /// <summary>Test-only: free the collapsed tables before the TLB flush, to prove the TLB check catches it.</summary>
    internal RestoreLargePages(bool freeBeforeFlush) : base(
        id: "restore-large-pages",
        order: 4,
        title: "x86/mm/pat: Restore large pages after fragmentation",
        posted: "[PATCH, RFC], Kirill A. Shutemov, linux-mm, 2020-04-16",
        changes: "cpa_flush collapses 512 compatible PTEs into a 2M leaf and 512 compatible 2M leaves into a 1G leaf around each change, flushes, then frees the tables; set_memory_4k sets _PAGE_KERNEL_4K so those pages stay 4K. DirectMap counters are not updated.")
    {
        _freeBeforeFlush = freeBeforeFlush;
    }

    /// <summary>The patch's state in one kernel.</summary>
    public Instance For(Kernel k) => _instances.TryGetValue(k, out var i) ? i : throw new InvalidOperationException("restore-large-pages is not applied to this kernel");

    public override void Apply(Kernel k)
    {
        var i = new Instance(k, _freeBeforeFlush);
        _instances.Add(k, i);
        k.SetMemory.FourKMaskSet = _PAGE_KERNEL_4K;
        k.Cpa.BeforeCpaFlush = i.CpaRestoreLargePages;
        k.Cpa.AfterCpaFlush = _ => i.FreeQueued("cpa_flush");
    }

    /// <summary>restore-large-pages in one kernel: the tables queued for freeing and what was restored.</summary>
    public sealed class Instance(Kernel k, bool freeBeforeFlush)
    {
        private readonly Kernel _k = k;
        private readonly bool _freeBeforeFlush = freeBeforeFlush;
        private readonly List<long> _queued = [];

        /// <summary>Large pages restored since boot, by level.</summary>
        public long Restored2M { get; private set; }
        public long Restored1G { get; private set; }

        /// <summary>PTE tables restore_pmd_page looked at, and those it refused for a first pfn that is not 2M-aligned (so a test sees the scan ran).</summary>
        public long PteTablesScanned { get; private set; }
        public long RefusedMisaligned { get; private set; }

        /// <summary>cpa_restore_large_pages: returns whether a full flush is needed (tables were queued).</summary>
        internal bool CpaRestoreLargePages(CpaData cpa)
        {
            if ((cpa.Flags & CpaFlags.CPA_PAGES_ARRAY) != 0)
            {
                for (long i = 0; i < cpa.NumPages; i++)
                    RestoreLargePagesAt(cpa.Addr(i));
            }
            else
            {
                ulong start = cpa.Addr(0);
                ulong end = start + PAGE_SIZE * (ulong)cpa.NumPages;
                for (ulong addr = start; addr >= start && addr < end; addr += PUD_SIZE)
                    RestoreLargePagesAt(addr);
            }
            if (_freeBeforeFlush)
                FreeQueued("restore_large_pages (freed before the flush)");
            return _queued.Count > 0 || _freeBeforeFlush;
        }

        internal void FreeQueued(string where)
        {
            foreach (var pfn in _queued)
                _k.FreeTablePage(pfn, where);
            _queued.Clear();
        }

        /// <summary>restore_large_pages: the PUD entry of the 1G region around <paramref name="addr"/>, if it points at a PMD table.</summary>
        private void RestoreLargePagesAt(ulong addr)
        {
            addr &= PUD_MASK;
            ulong pgd = _k.Tables[_k.InitTopPgt][pgd_index(addr)];
            if (pgd_none(pgd))
                return;
            var pudTable = _k.Tables[pte_pfn(pgd)];
            int ui = pud_index(addr);
            ulong pud = pudTable[ui];
            if (!pud_present(pud) || pud_large(pud))
                return;
            RestorePudPage(pudTable, ui);
        }

        private void RestorePudPage(PageTable pudTable, int ui)
        {
            bool restorePud = _k.Options.GbPages;
            var pmd = _k.Tables[pud_pfn(pudTable[ui])];
            ulong first = pmd[0];
            if (pmd_present(first) && !pmd_large(first))
            {
                RestorePmdPage(pmd, 0);
                first = pmd[0];
            }
            if (!pmd_large(first) || (((ulong)pmd_pfn(first) << PAGE_SHIFT) & ~PUD_MASK) != 0)
                restorePud = false;
            for (int i = 1; i < PTRS_PER_TABLE; i++)
            {
                ulong entry = pmd[i];
                if (!pmd_present(entry))
                {
                    restorePud = false;
                    continue;
                }
                if (!pmd_large(entry))
                {
                    RestorePmdPage(pmd, i);
                    entry = pmd[i];
                }
                if (!pmd_large(entry) || pmd_flags(entry) != pmd_flags(first) || pmd_pfn(entry) - pmd_pfn(first) != i * PTRS_PER_TABLE)
                    restorePud = false;
            }
            if (restorePud)
            {
                _queued.Add(pud_pfn(pudTable[ui]));
                pudTable[ui] = pfn_pud(pmd_pfn(first), pmd_flags(first));
                Restored1G++;
            }
        }

        private void RestorePmdPage(PageTable pmd, int mi)
        {
            long ptePfn = pmd_pfn(pmd[mi]);
            var pte = _k.Tables[ptePfn];
            ulong first = pte[0];
            PteTablesScanned++;
            if ((((ulong)pte_pfn(first) << PAGE_SHIFT) & ~PMD_MASK) != 0)
            {
                RefusedMisaligned++;
                return;
            }
            if ((pte_flags(first) & _PAGE_KERNEL_4K) != 0)
                return;
            for (int i = 1; i < PTRS_PER_TABLE; i++)
            {
                ulong entry = pte[i];
                if (!pte_present(entry) || pte_flags(entry) != pte_flags(first) || pte_pfn(entry) - pte_pfn(first) != i)
                    return;
            }
            ulong prot = pgprot_4k_2_large(pte_flags(first)) | _PAGE_PSE;
            pmd[mi] = pfn_pmd(pte_pfn(first), prot);
            _queued.Add(ptePfn);
            Restored2M++;
        }
    }
}
