using KernelMm.Model.Diagnostics;
using KernelMm.Model.Memory;
using KernelMm.Model.Mm;
using KernelMm.Model.Paging;
using KernelMm.Model.Stats;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Checks;

/// <summary>
/// The checks the harness runs after every run (and at checkpoints): frame conservation,
/// page-table accounting, counters and memcg charges, TLB coherence, and a patch's own
/// invariants. Each finding says what is wrong and where (pfn, owner, the counters).
/// </summary>
public sealed class InvariantChecker(Kernel k)
{
    private readonly List<KernelWarning> _findings = [];

    public IReadOnlyList<KernelWarning> Run()
    {
        _findings.Clear();
        var claims = FrameClaims.Rent(_findings);
        var tables = new TableWalk(k, claims, _findings);
        tables.WalkKernel();
        var perProcess = tables.WalkProcesses();
        ClaimOthers(claims);
        CheckFrames(claims);
        CheckTableAccounting(tables, perProcess);
        CheckCounters(claims, perProcess);
        CheckMemcg();
        _findings.AddRange(DirectMapCheck.Run(k));
        k.Tlbs.CheckCoherence(k.Walker, c => k.Tlbs.Cpus[c].CurrentPgd, new KernelLogSink(_findings), "check");
        foreach (var inv in k.Invariants)
            _findings.AddRange(inv());
        claims.Return();
        return [.. _findings];
    }

    /// <summary>Stacks, LDT pages, vmalloc areas, scenario allocations and patch caches.</summary>
    private void ClaimOthers(FrameClaims claims)
    {
        foreach (var pfn in k.IdleStacks)
            for (int i = 0; i < 1 << Process.THREAD_SIZE_ORDER; i++)
                claims.Claim(pfn + i, PageOwnerKind.KernelStack, "idle task");
        foreach (var p in k.Processes)
        {
            for (int i = 0; i < 1 << Process.THREAD_SIZE_ORDER; i++)
                claims.Claim(p.StackPfn + i, PageOwnerKind.KernelStack, $"task {p}");
            if (p.LdtPagePfn >= 0)
                claims.Claim(p.LdtPagePfn, PageOwnerKind.Ldt, $"LDT of {p}");
        }
        foreach (var a in k.Vmalloc.Areas)
            foreach (var pfn in a.Pages)
                claims.Claim(pfn, k.Frames.Peek(pfn).OwnerKind, $"vmalloc area 0x{a.Addr:x} ({a.Caller})");
        foreach (var (pfn, order) in k.KernelAllocations)
            for (long i = 0; i < 1L << order; i++)
                claims.Claim(pfn + i, PageOwnerKind.Kernel, "alloc_pages by the scenario");
        foreach (var claimer in k.FrameClaimers)
            foreach (var (pfn, kind, who) in claimer())
                claims.Claim(pfn, kind, who);
    }

    private bool AnyReserved(long start, long end)
    {
        foreach (var (s, e) in k.ReservedRanges)
            if (s < end && e > start)
                return true;
        return false;
    }

    /// <summary>The end of the reserved range that holds <paramref name="pfn"/>, or 0.</summary>
    private long ReservedEnd(long pfn)
    {
        foreach (var (s, e) in k.ReservedRanges)
            if (pfn >= s && pfn < e)
                return e;
        return 0;
    }

    /// <summary>
    /// Every frame is free in the buddy allocator, reserved at boot, or held by what the
    /// walk found; an owned frame nobody holds is a leak, a free frame somebody holds is a
    /// use after free.
    /// </summary>
    private void CheckFrames(FrameClaims claims)
    {
        var free = new FrameBitmap(k.Frames.MaxPfn);
        long freePages = 0;
        foreach (var z in k.Zones)
        {
            for (int order = 0; order <= PageFrames.MAX_ORDER; order++)
            {
                foreach (var head in k.Buddy.FreeList(z, order))
                {
                    freePages += 1L << order;
                    if (order == PageFrames.MAX_ORDER && k.Frames.IsPristine(head))
                        continue;
                    for (long i = 0; i < 1L << order; i++)
                        free.Add(head + i);
                }
            }
        }
        if (freePages != k.VmStat[VmStatItem.NR_FREE_PAGES])
            _findings.Add(new KernelWarning("counter", $"nr_free_pages is {k.VmStat[VmStatItem.NR_FREE_PAGES]} but the free lists hold {freePages} pages"));

        // In pfn order; only the (rare) frames held while free need sorting.
        List<KeyValuePair<long, (PageOwnerKind Kind, string Who, int Count)>>? heldFree = null;
        foreach (var c in claims.Span)
            if (free.Contains(c.Key) || k.Frames.IsPristine(c.Key))
                (heldFree ??= []).Add(c);
        if (heldFree is not null)
            foreach (var (pfn, c) in heldFree.OrderBy(x => x.Key))
                _findings.Add(new KernelWarning("use-after-free", $"pfn:{pfn:x5} is free in the buddy allocator but held as {c.Kind} by {c.Who}"));

        long leaks = 0;
        for (long chunk = 0; chunk < k.Frames.MaxPfn; chunk += PageFrames.ChunkPages)
        {
            if (k.Frames.IsPristine(chunk))
                continue;
            bool reserved = AnyReserved(chunk, chunk + PageFrames.ChunkPages);
            for (long pfn = chunk; pfn < chunk + PageFrames.ChunkPages; pfn++)
            {
                // Most frames of a chunk are free: 64 at a time.
                if ((pfn & 63) == 0 && free.AllSet(pfn))
                {
                    pfn += 63;
                    continue;
                }
                if (reserved && ReservedEnd(pfn) is > 0 and var end)
                {
                    pfn = Math.Min(end, chunk + PageFrames.ChunkPages) - 1; // the rest of the range
                    continue;
                }
                if (free.Contains(pfn) || claims.IsClaimed(pfn))
                    continue;
                var p = k.Frames.Peek(pfn);
                if (p.OwnerKind == PageOwnerKind.BadPage)
                    continue; // leaked on purpose by bad_page(), already reported
                if (++leaks <= 20)
                {
                    _findings.Add(new KernelWarning("leak",
                        $"pfn:{pfn:x5} is neither free nor held: owner {p.OwnerKind}/{p.OwnerId}, refcount {p.RefCount}, mapcount {p.MapCount + 1}, flags {p.Flags}, memcg {p.MemcgId}"));
                }
            }
        }
        if (leaks > 20)
            _findings.Add(new KernelWarning("leak", $"... {leaks - 20} more leaked frames"));
    }

    private void CheckTableAccounting(TableWalk tables, IReadOnlyDictionary<Process, TableWalk.MmCounts> perProcess)
    {
        long ctorTables = tables.KernelCtorTables + perProcess.Values.Sum(c => c.PmdTables + c.PteTables);
        if (ctorTables != k.VmStat[VmStatItem.NR_PAGETABLE])
            _findings.Add(new KernelWarning("pt-accounting", $"nr_page_table_pages is {k.VmStat[VmStatItem.NR_PAGETABLE]} but the walk finds {ctorTables} PMD/PTE table pages with a constructor"));
        foreach (var (p, c) in perProcess)
        {
            long bytes = (c.PudTables + c.PmdTables + c.PteTables) * (long)PAGE_SIZE;
            if (bytes != p.Mm.PgtablesBytes)
                _findings.Add(new KernelWarning("pt-accounting", $"{p}: VmPTE is {p.Mm.PgtablesBytes >> 10} kB but its tables are {bytes >> 10} kB"));
        }
    }

    private void CheckCounters(FrameClaims claims, IReadOnlyDictionary<Process, TableWalk.MmCounts> perProcess)
    {
        if (!VmStat.NamesInLockstep(out string why))
            _findings.Add(new KernelWarning("counter", $"vmstat names out of step: {why}"));
        foreach (var (name, value) in k.VmStat.Lines())
            if (value < 0)
                _findings.Add(new KernelWarning("counter", $"{name} is negative: {value}"));
        long anonMapped = 0;
        foreach (var c in claims.Span)
            if (c.Value.Kind == PageOwnerKind.UserAnon)
                anonMapped++;
        if (anonMapped != k.VmStat[VmStatItem.NR_ANON_MAPPED])
            _findings.Add(new KernelWarning("counter", $"nr_anon_pages is {k.VmStat[VmStatItem.NR_ANON_MAPPED]} but {anonMapped} anonymous pages are mapped"));
        foreach (var (pfn, c) in claims.Span)
        {
            if (c.Kind != PageOwnerKind.UserAnon)
                continue;
            int mapcount = k.Frames.Peek(pfn).MapCount + 1;
            if (mapcount != c.Count)
                _findings.Add(new KernelWarning("counter", $"pfn:{pfn:x5} has mapcount {mapcount} but {c.Count} mappings"));
        }
        long stacks = (k.IdleStacks.Count + k.Processes.Count) * (Process.THREAD_SIZE >> 10);
        if (stacks != k.VmStat[VmStatItem.NR_KERNEL_STACK_KB])
            _findings.Add(new KernelWarning("counter", $"nr_kernel_stack is {k.VmStat[VmStatItem.NR_KERNEL_STACK_KB]} kB for {stacks} kB of stacks"));
        foreach (var (p, c) in perProcess)
            if (c.AnonPtes != p.Mm.AnonRss)
                _findings.Add(new KernelWarning("counter", $"{p}: RssAnon is {p.Mm.AnonRss * 4} kB but it maps {c.AnonPtes * 4} kB of anonymous pages"));
    }

    /// <summary>memcg charges equal what is still charged: the pages whose mem_cgroup is the group.</summary>
    private void CheckMemcg()
    {
        if (k.Memcgs.All.Count == 0)
            return;
        var memory = new long[k.Memcgs.All.Count + 1];
        var kmem = new long[k.Memcgs.All.Count + 1];
        for (long chunk = 0; chunk < k.Frames.MaxPfn; chunk += PageFrames.ChunkPages)
        {
            if (k.Frames.IsPristine(chunk))
                continue;
            for (long pfn = chunk; pfn < chunk + PageFrames.ChunkPages; pfn++)
            {
                var p = k.Frames.Peek(pfn);
                if (p.MemcgId == 0 || p.IsBuddy)
                    continue;
                // A multi-page kmem charge (a kernel stack) is recorded on its first page only.
                long n = p.OwnerKind == PageOwnerKind.UserAnon ? 1 : 1L << p.Order;
                memory[p.MemcgId] += n;
                if (p.OwnerKind != PageOwnerKind.UserAnon)
                    kmem[p.MemcgId] += n;
            }
        }
        foreach (var m in k.Memcgs.All)
        {
            if (m.KmemPages != kmem[m.Id])
                _findings.Add(new KernelWarning("memcg", $"memcg {m.Name}: kmem counter {m.KmemPages} pages, but {kmem[m.Id]} kmem pages are charged to it ({m.KmemPages - kmem[m.Id]} pages of charge leaked)"));
            if (m.MemoryPages != memory[m.Id])
                _findings.Add(new KernelWarning("memcg", $"memcg {m.Name}: memory counter {m.MemoryPages} pages, but {memory[m.Id]} pages are charged to it"));
            foreach (var (name, bytes) in m.StatLines())
                if (bytes < 0)
                    _findings.Add(new KernelWarning("memcg", $"memcg {m.Name}: {name} is negative: {bytes}"));
        }
    }

    /// <summary>A set of frames as one bit each, kept per max-order chunk where any is set.</summary>
    private sealed class FrameBitmap(long maxPfn)
    {
        private readonly ulong[]?[] _chunks = new ulong[]?[(maxPfn + PageFrames.ChunkPages - 1) >> PageFrames.ChunkShift];

        public void Add(long pfn)
        {
            var bits = _chunks[pfn >> PageFrames.ChunkShift] ??= new ulong[PageFrames.ChunkPages / 64];
            bits[(pfn & (PageFrames.ChunkPages - 1)) >> 6] |= 1UL << (int)(pfn & 63);
        }

        /// <summary>Whether the 64 frames from <paramref name="pfn"/> (a multiple of 64) are all in the set.</summary>
        public bool AllSet(long pfn)
        {
            if ((ulong)pfn >= (ulong)maxPfn)
                return false;
            var bits = _chunks[pfn >> PageFrames.ChunkShift];
            return bits is not null && bits[(pfn & (PageFrames.ChunkPages - 1)) >> 6] == ulong.MaxValue;
        }

        public bool Contains(long pfn)
        {
            if ((ulong)pfn >= (ulong)maxPfn)
                return false;
            var bits = _chunks[pfn >> PageFrames.ChunkShift];
            return bits is not null && (bits[(pfn & (PageFrames.ChunkPages - 1)) >> 6] & (1UL << (int)(pfn & 63))) != 0;
        }
    }

    /// <summary>Adapts the findings list to the TLB check's log.</summary>
    private sealed class KernelLogSink(List<KernelWarning> findings) : KernelLog
    {
        public override void Warn(string kind, string message) => findings.Add(new KernelWarning(kind, message));
    }
}
