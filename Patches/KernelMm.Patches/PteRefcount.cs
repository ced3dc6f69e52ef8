using KernelMm.Model;
using KernelMm.Model.Diagnostics;
using KernelMm.Model.Mm;
using KernelMm.Model.Paging;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Patches;

/// <summary>
/// Patch 5: "mm: introduce pte_refcount for user PTE page table page" (Qi Zheng, RFC 4/7,
/// 2022-08-25) with what the rest of that RFC series ("Try to free empty and zero user
/// PTE page table pages", 0/7) builds on it: each user PTE table counts its non-none
/// entries (bits 0-9) and its zero-page entries (bits 10-19), initialised in the table
/// constructor and kept by track_pte_set/track_pte_clear; writing a pid to
/// /proc/sys/vm/free_ptes frees that process's PTE tables that are empty or map only the
/// zero page by their counts (pmd_clear, flush_tlb_range, the DEBUG_VM check of every
/// entry, mm_dec_nr_ptes, dtor, __free_page; ESRCH for a pid with no process). Nothing
/// frees them automatically: the reclaim hook was a plan, not part of the RFC.
/// The RFC's skews are kept: a non-zero entry replaced by a zero-page entry does not raise
/// the zero count, and the zero-pfn test is applied to any entry, swap entries included.
/// </summary>
public sealed class PteRefcount() : Patch(
    id: "pte-refcount",
    order: 5,
    title: "mm: introduce pte_refcount for user PTE page table page",
    posted: "[RFC PATCH 4/7], Qi Zheng, linux-mm, 2022-08-25 (series \"Try to free empty and zero user PTE page table pages\")",
    changes: "Counts mapped and zero-page entries per user PTE table; /proc/sys/vm/free_ptes (write a pid) frees that process's empty and all-zero-page PTE tables.")
{
    public const int PTE_MAPPED_BITS = 10;
    public const int PTE_ZERO_SHIFT = PTE_MAPPED_BITS;
    public const ulong PTE_MAPPED_MASK = (1UL << PTE_MAPPED_BITS) - 1;
    public const ulong PTE_ZERO_MASK = ((1UL << 10) - 1) << PTE_ZERO_SHIFT;
    public const string Sysctl = "vm.free_ptes";

    // One patch object serves every kernel of the matrix (in parallel): state is per kernel.
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Kernel, Instance> _instances = new();

    /// <summary>The counters of one kernel.</summary>
    public Instance For(Kernel k) => _instances.TryGetValue(k, out var i) ? i : throw new InvalidOperationException("pte-refcount is not applied to this kernel");

    public override void Apply(Kernel k)
    {
        var i = new Instance(k);
        _instances.Add(k, i);
        k.PageTableHooks.UserTableAllocated += (mm, pfn, level) =>
        {
            if (level == PageLevel.PG_LEVEL_4K)
                i.Init(pfn); // pte_ref_init in pgtable_pte_page_ctor
        };
        k.PageTableHooks.UserTableFreed += (mm, pfn, level) => i.Forget(pfn);
        k.PageTableHooks.UserPteChanged += (mm, table, old, now) => i.Track(table, old, now);
        k.Sysctl.Register(Sysctl, i.FreePtes);
        k.Invariants.Add(i.Check);
    }

    public static ulong MappedCount(ulong refcount) => refcount & PTE_MAPPED_MASK;

    public static ulong ZeroCount(ulong refcount) => (refcount & PTE_ZERO_MASK) >> PTE_ZERO_SHIFT;

    /// <summary>
    /// pte_refcount of every user PTE table of one kernel, and free_ptes. The counts live
    /// where the RFC keeps them, in the table page's struct page
    /// (<see cref="PageTableStore.PageWord"/>), so they come and go with the table and cost
    /// no lookup by pfn (a dictionary of them was 13% of the 110 GiB VmPTE scale case).
    /// </summary>
    public sealed class Instance(Kernel k)
    {
        private readonly Kernel _k = k;

        // The word's top bit says pte_ref_init ran for the table (a user PTE table made while
        // the patch was applied); the counts are the low 63 bits, wrapping there, so the 20
        // bits the RFC reads (mapped and zero counts) behave as in its unsigned long, skews and
        // underflows included. A word cannot outlive its table, so the check of a count kept
        // for a frame that is no longer a table (a dictionary by pfn could) has nothing to find.
        private const ulong Initialised = 1UL << 63;
        private const ulong CountBits = ~Initialised;

        /// <summary>PTE tables freed through free_ptes since boot.</summary>
        public long Freed { get; private set; }

        internal void Init(long pfn) => _k.Tables.PageWord(pfn) = Initialised;

        internal void Forget(long pfn)
        {
            ref ulong w = ref _k.Tables.PageWord(pfn);
            if (!System.Runtime.CompilerServices.Unsafe.IsNullRef(ref w))
                w = 0;
        }

        internal void Track(long table, ulong old, ulong now)
        {
            ref ulong w = ref _k.Tables.PageWord(table);
            if (System.Runtime.CompilerServices.Unsafe.IsNullRef(ref w) || (w & Initialised) == 0)
                return;
            ulong r = w & CountBits;
            r = now == 0 ? TrackPteClear(r, old) : TrackPteSet(r, old, now);
            w = Initialised | (r & CountBits);
        }

        /// <summary>The counts of the table in <paramref name="ptePfn"/> (0 for a frame that is no user PTE table).</summary>
        public ulong RefcountOf(long ptePfn)
        {
            ref ulong w = ref _k.Tables.PageWord(ptePfn);
            return System.Runtime.CompilerServices.Unsafe.IsNullRef(ref w) || (w & Initialised) == 0 ? 0 : w & CountBits;
        }

        private bool IsZeroPfn(ulong pte) => pte_pfn(pte) == _k.ZeroPfn;

        /// <summary>track_pte_set: none to non-none counts a mapping (and a zero one); zero to non-zero drops the zero count.</summary>
        private ulong TrackPteSet(ulong r, ulong old, ulong now)
        {
            if (pte_none(old))
            {
                r += 1;
                if (IsZeroPfn(now))
                    r += 1UL << PTE_ZERO_SHIFT;
            }
            else if (IsZeroPfn(old) && !IsZeroPfn(now))
            {
                r -= 1UL << PTE_ZERO_SHIFT;
            }
            return r;
        }

        /// <summary>track_pte_clear: a non-none entry goes; so does its zero count if it mapped the zero page.</summary>
        private ulong TrackPteClear(ulong r, ulong old)
        {
            if (pte_none(old))
                return r;
            r -= 1;
            if (IsZeroPfn(old))
                r -= 1UL << PTE_ZERO_SHIFT;
            return r;
        }

        /// <summary>A table qualifies when no entry is mapped or all 512 map the zero page.</summary>
        public bool Qualifies(long table)
        {
            ulong r = RefcountOf(table);
            return MappedCount(r) == 0 || ZeroCount(r) == PageShifts.PTRS_PER_TABLE;
        }

        /// <summary>
        /// free_ptes_sysctl_handler (RFC 7/7, mm/pte_ref.c): proc_dointvec_minmax takes 0 to
        /// INT_MAX (EINVAL otherwise), a pid with no task, or whose task has no mm, is
        /// ESRCH; then walk_page_range over the task's VMAs calls kfreeptd_pmd_entry for
        /// each PMD that maps a PTE table.
        /// </summary>
        internal void FreePtes(long pid)
        {
            const string call = "write /proc/sys/vm/free_ptes";
            if (pid is < 0 or > int.MaxValue)
                throw new KernelErrnoException(call, Errno.EINVAL, $"{pid} is not in 0..INT_MAX");
            var p = _k.Processes.FirstOrDefault(x => x.Pid == pid)
                ?? throw new KernelErrnoException(call, Errno.ESRCH, $"no process {pid}");
            // The walk reads each PMD as it goes: freeing the table just visited changes nothing ahead.
            foreach (var (addr, table) in p.Mm.PteTablesInVmas())
            {
                if (!Qualifies(table))
                    continue;
                // kfreeptd_pmd_entry trusts the counts: pmd_clear and flush_tlb_range under the
                // pmd lock; then, unlocked, pte_free_debug (CONFIG_DEBUG_VM) checks the entries
                // before mm_dec_nr_ptes, the dtor and __free_page.
                p.Mm.ClearPteTable(addr);
                if (PteFreeDebug(table) is { } bad)
                {
                    // BUG_ON(!(pte_none(pte) || is_zero_pfn(pte_pfn(pte)))): the oops kills the
                    // writer mid-walk, holding the mmap lock; the table, already unlinked, is
                    // never freed nor uncounted, and the pages it maps stay mapped from nowhere.
                    _k.Log.Warn("pte-refcount", "kernel BUG at mm/pte_ref.c:124!");
                    _k.Log.Warn("pte-refcount", $"invalid opcode: 0000 [#1] SMP{(_k.Options.Pti ? " PTI" : "")}: free_ptes of {p}: table pfn:{table:x5} at 0x{addr & PageShifts.PMD_MASK:x} maps pfn:{pte_pfn(bad):x5}");
                    return;
                }
                p.Mm.FreeClearedPteTable(table);
                Freed++;
            }
        }

        /// <summary>pte_free_debug (CONFIG_DEBUG_VM): the first entry that is neither none nor the zero page, if any.</summary>
        private ulong? PteFreeDebug(long table)
        {
            var entries = _k.Tables[table];
            for (int x = entries.NextUsed(0); x < PageShifts.PTRS_PER_TABLE; x = entries.NextUsed(x + 1))
            {
                ulong e = entries[x];
                if (!pte_none(e) && !IsZeroPfn(e))
                    return e;
            }
            return null;
        }

        /// <summary>Each table's counts equal its entries (beyond the RFC's known skew, reported as such).</summary>
        internal IEnumerable<KernelWarning> Check()
        {
            foreach (long table in _k.Tables.Frames())
            {
                ulong w = _k.Tables.PageWord(table);
                if ((w & Initialised) == 0)
                    continue;
                ulong r = w & CountBits;
                ulong mapped = 0, zero = 0;
                var entries = _k.Tables[table];
                for (int x = entries.NextUsed(0); x < PageShifts.PTRS_PER_TABLE; x = entries.NextUsed(x + 1))
                {
                    ulong e = entries[x];
                    if (pte_none(e))
                        continue;
                    mapped++;
                    if (IsZeroPfn(e))
                        zero++;
                }
                if (MappedCount(r) != mapped || ZeroCount(r) != zero)
                    yield return new KernelWarning("pte-refcount", $"table pfn:{table:x5}: pte_refcount says {MappedCount(r)} mapped, {ZeroCount(r)} zero; the table has {mapped} and {zero}");
            }
        }
    }
}
