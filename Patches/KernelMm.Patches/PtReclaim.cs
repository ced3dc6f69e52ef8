using KernelMm.Model;
using KernelMm.Model.Mm;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Patches;

/// <summary>
/// Upstream descendant of pte-refcount: "mm: pgtable: reclaim empty PTE page in
/// madvise(MADV_DONTNEED)" (Qi Zheng, commit 6375e95f381e, v6.14; CONFIG_PT_RECLAIM, default
/// y on x86_64), with its fix "mm: pgtable: fix incorrect reclaim of non-empty PTE pages"
/// (Feb 2025). Read in torvalds/linux mm/pt_reclaim.c and mm/memory.c zap_pte_range:
/// madvise_dontneed_single_vma sets zap_details.reclaim_pt; zap_pte_range frees the PTE
/// table it has just zapped when reclaim_pt_is_enabled (reclaim_pt and end - start &gt;=
/// PMD_SIZE, so the zap of that VMA covered the table's whole 2M), no entry was skipped,
/// and all 512 entries are none: try_get_and_clear_pmd on the fast path, try_to_free_pte's
/// rescan under the PMD lock when the PTE lock was dropped midway. Either way free_pte puts
/// the table in the zap's mmu_gather (pte_free_tlb, RCU-deferred with the
/// MMU_GATHER_RCU_TABLE_FREE that PT_RECLAIM selects) and calls mm_dec_nr_ptes at once.
/// Unlike the RFC there is no counter and no sysctl, tables of zero-page entries are never
/// freed, and munmap, exit, MADV_FREE and reclaim do not reclaim (free_pgtables still
/// frees at munmap). The model is single-threaded, so both paths reach the same answer;
/// it always rescans, which is what the fixed code's slow path does.
/// </summary>
public sealed class PtReclaim() : Descendant(
    id: "pt-reclaim",
    order: 2,
    title: "mm: pgtable: reclaim empty PTE page in madvise(MADV_DONTNEED)",
    merged: "v6.14",
    commit: "6375e95f381e",
    of: "pte-refcount",
    changes: "MADV_DONTNEED frees each PTE table whose whole 2M it zapped and left empty, through the zap's mmu_gather; VmPTE drops in the madvise call. Zero-page tables, munmap, MADV_FREE and reclaim are untouched.")
{
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Kernel, Instance> _instances = new();

    /// <summary>The patch's state in one kernel.</summary>
    public Instance For(Kernel k) => _instances.TryGetValue(k, out var i) ? i : throw new InvalidOperationException("pt-reclaim is not applied to this kernel");

    public override void Apply(Kernel k)
    {
        var i = new Instance(k);
        _instances.Add(k, i);
        var previous = k.PageTableHooks.PteTableZapped;
        k.PageTableHooks.PteTableZapped = (mm, zap) => (previous?.Invoke(mm, zap) ?? false) || i.TryToFreePte(zap);
    }

    /// <summary>reclaim_pt_is_enabled: only MADV_DONTNEED asks, and only for a zap of the table's whole PMD range.</summary>
    public static bool ReclaimPtIsEnabled(PteTableZap zap) =>
        zap.Caller == ZapCaller.MadviseDontneed && zap.End - zap.Start >= PMD_SIZE;

    /// <summary>pt-reclaim in one kernel: how many PTE tables it freed.</summary>
    public sealed class Instance(Kernel k)
    {
        private readonly Kernel _k = k;

        /// <summary>PTE tables freed by MADV_DONTNEED since boot.</summary>
        public long Reclaimed { get; private set; }

        /// <summary>
        /// The decision of zap_pte_range's tail: reclaim enabled, nothing skipped, and the
        /// table empty (try_to_free_pte's scan of all PTRS_PER_PTE entries for pte_none).
        /// </summary>
        internal bool TryToFreePte(PteTableZap zap)
        {
            if (!ReclaimPtIsEnabled(zap) || zap.AnySkipped)
                return false;
            var table = _k.Tables[zap.PtePfn];
            if (table.NextUsed(0) < PTRS_PER_TABLE)
                return false;
            Reclaimed++;
            return true;
        }
    }
}
