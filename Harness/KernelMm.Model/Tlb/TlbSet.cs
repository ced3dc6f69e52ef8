using KernelMm.Model.Diagnostics;
using KernelMm.Model.Paging;

namespace KernelMm.Model.Tlb;

/// <summary>
/// The TLBs of all CPUs and the kernel's flush primitives (arch/x86/mm/tlb.c), plus the
/// coherence check the harness runs at flush points.
/// </summary>
public sealed class TlbSet
{
    /// <summary>tlb_single_page_flush_ceiling: above this many pages a range flush is a full flush.</summary>
    public const int tlb_single_page_flush_ceiling = 33;

    private readonly CpuTlb[] _cpus;

    public TlbSet(int cpus)
    {
        _cpus = new CpuTlb[cpus];
        for (int i = 0; i < cpus; i++)
            _cpus[i] = new CpuTlb(i);
    }

    public IReadOnlyList<CpuTlb> Cpus => _cpus;

    /// <summary>
    /// Addresses whose stale translations are the kernel's design, not a missing flush: a
    /// vfree'd range on the lazy purge list, flushed only when it is purged.
    /// </summary>
    public Func<ulong, bool>? MayBeStale { get; set; }

    /// <summary>Full flushes done (flush_tlb_all) since boot.</summary>
    public long FullFlushes { get; private set; }

    /// <summary>Single-page invalidations sent (one per CPU per page).</summary>
    public long PageFlushes { get; private set; }

    /// <summary>flush_tlb_all: every CPU drops everything, global entries too.</summary>
    public void flush_tlb_all()
    {
        FullFlushes++;
        foreach (var t in _cpus)
            t.FlushAll();
    }

    /// <summary>flush_tlb_one_kernel on every CPU (the IPI of __cpa_flush_tlb).</summary>
    public void flush_tlb_one_kernel(ulong va)
    {
        PageFlushes++;
        foreach (var t in _cpus)
            t.Invlpg(va);
    }

    /// <summary>flush_tlb_kernel_range: per-page INVLPG up to the ceiling, else a full flush.</summary>
    public void flush_tlb_kernel_range(ulong start, ulong end)
    {
        ulong pages = (end - start) >> PageShifts.PAGE_SHIFT;
        if (pages > tlb_single_page_flush_ceiling)
        {
            flush_tlb_all();
            return;
        }
        for (ulong va = start; va < end; va += PageShifts.PAGE_SIZE)
            flush_tlb_one_kernel(va);
    }

    /// <summary>
    /// The TLB check at a flush point: no CPU may hold a translation that the tables no
    /// longer give (another frame, other attributes, or none), and no address may be
    /// covered by two entries of different sizes with different frames or attributes (the
    /// SDM's undefined case; AMD erratum 383's machine check). Findings go to the log.
    /// </summary>
    public int CheckCoherence(PageWalker walker, long pgdPfn, KernelLog log, string where) =>
        CheckCoherence(walker, _ => pgdPfn, log, where);

    /// <summary>The same, each CPU checked against the pgd it has loaded.</summary>
    public int CheckCoherence(PageWalker walker, Func<int, long> pgdOf, KernelLog log, string where) =>
        CheckCoherence(walker, pgdOf, log, where, FlushScope.Everything);

    /// <summary>
    /// The check of one flush point, over what that flush made coherent: a kernel flush
    /// (cpa_flush, vfree) the kernel half on every CPU; a flush of an mm (tlb_finish_mmu,
    /// flush_tlb_mm_range) the user half on the CPUs running it. Another mm may be in the
    /// middle of a change of its own (fork has write-protected the parent's entries and flushes
    /// at the end of dup_mmap, under mmap_lock), so it is not checked there; everything is
    /// checked between calls.
    /// </summary>
    public int CheckCoherence(PageWalker walker, Func<int, long> pgdOf, KernelLog log, string where, FlushScope scope)
    {
        int findings = 0;
        // What earlier checks found coherent stays so while the entries their walks read are
        // unchanged (the store's write log): only the other entries are walked again. The
        // answer is the one a walk of every entry gives, at a fraction of the cost at a
        // copy-on-write fault's flush, which changes one PTE.
        if (!ReferenceEquals(_checkedAgainst, walker.Tables))
        {
            foreach (var cpu in _cpus)
                cpu.ForgetChecks();
            _checkedAgainst = walker.Tables;
        }
        // The entries are checked in address order, so most walks end in the PTE table of the
        // one before: the check remembers it (for this check only; nothing changes meanwhile).
        PteTableCache? memo = null;
        foreach (var cpu in _cpus)
        {
            if (cpu.Count == 0 || scope.Pgd >= 0 && cpu.CurrentPgd != scope.Pgd)
                continue;
            long pgd = pgdOf(cpu.Cpu);
            var largest = cpu.LargestLevel;
            var toCheck = ToCheck(cpu, pgd, largest, walker.Tables, scope, _walk);
            if (toCheck.IsEmpty)
                continue;
            // In address order: the subset sorts as the whole TLB would.
            toCheck.Sort();
            memo ??= new PteTableCache();
            foreach (ulong key in toCheck)
            {
                int slot = CpuTlb.SlotOf(key);
                ref readonly var t = ref cpu.TranslationOf(key);
                bool walk = _walk[slot];
                if (MayBeStale?.Invoke(t.VirtualBase) == true)
                    continue;
                if (walk)
                {
                    if (walker.MapsUniformly(pgd, t.VirtualBase, t.Size, t.BasePfn, t.Flags, memo, out ulong at, out var now))
                    {
                        cpu.NoteCoherent(slot, pgd, walker);
                    }
                    else
                    {
                        findings++;
                        string was = $"{Size(t.Level)} pfn:{t.PfnOf(at):x} flags:{t.Flags:x}";
                        string isNow = now is { } m ? $"{Size(m.Level)} pfn:{m.PfnOf(at):x} flags:{m.Flags:x}" : "not present";
                        log.Warn("stale-tlb", $"{where}: CPU {cpu.Cpu} holds a stale translation of 0x{at:x16}: cached {was}, tables say {isNow}");
                    }
                }
                // Only a larger entry can also match this one's addresses.
                if (t.Level >= largest)
                    continue;
                foreach (var other in cpu.Covering(t.VirtualBase))
                {
                    var o = other.Translation;
                    if (o.Level <= t.Level)
                        continue;
                    if (o.PfnOf(t.VirtualBase) != t.BasePfn || o.Flags != t.Flags)
                    {
                        findings++;
                        log.Warn("tlb-multimatch", $"{where}: CPU {cpu.Cpu} caches 0x{t.VirtualBase:x16} as {Size(t.Level)} and {Size(o.Level)} with different frames or attributes (SDM 4.10.2.3; AMD erratum 383)");
                    }
                }
            }
        }
        return findings;
    }

    private PageTableStore? _checkedAgainst;

    // Per slot, for the check in progress: whether the entry must be walked again.
    private readonly bool[] _walk = new bool[256];

    /// <summary>
    /// The first pass of a CPU's check: the keys of the entries in scope that need the
    /// second, in slot order: those not known to be coherent (marked in <see cref="_walk"/>)
    /// and those a larger entry may also match.
    /// </summary>
    private static Span<ulong> ToCheck(CpuTlb cpu, long pgd, PageLevel largest, PageTableStore tables, FlushScope scope, bool[] walkOf)
    {
        var keys = cpu.Keys();
        int n = 0;
        foreach (ulong key in keys)
        {
            int slot = CpuTlb.SlotOf(key);
            ref readonly var t = ref cpu.TranslationOf(key);
            if (!scope.Covers(t.VirtualBase))
                continue;
            bool walk = !cpu.KnownCoherent(slot, pgd, tables);
            walkOf[slot] = walk;
            if (walk || t.Level < largest)
                keys[n++] = key;
        }
        return keys[..n];
    }

    /// <summary>
    /// A page-table page is about to be freed: no CPU may still hold a translation that was
    /// walked through it (the table must be unlinked and the TLBs flushed first).
    /// </summary>
    public int CheckTableFree(long tablePfn, KernelLog log, string where)
    {
        int findings = 0;
        foreach (var cpu in _cpus)
        {
            if (!cpu.AnyWalkedThrough(tablePfn))
                continue;
            foreach (var e in cpu.Entries.Where(e => e.Translation.TablePfn == tablePfn).OrderBy(e => e.Translation.VirtualBase))
            {
                findings++;
                log.Warn("stale-tlb", $"{where}: table pfn:{tablePfn:x5} is freed while CPU {cpu.Cpu} still caches 0x{e.Translation.VirtualBase:x16} walked through it");
            }
        }
        return findings;
    }

    private static string Size(PageLevel l) => l switch
    {
        PageLevel.PG_LEVEL_4K => "4K",
        PageLevel.PG_LEVEL_2M => "2M",
        _ => "1G",
    };
}
