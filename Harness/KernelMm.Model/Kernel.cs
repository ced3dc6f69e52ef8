using KernelMm.Model.Boot;
using KernelMm.Model.Cpa;
using KernelMm.Model.Diagnostics;
using KernelMm.Model.Memory;
using KernelMm.Model.Mm;
using KernelMm.Model.Paging;
using KernelMm.Model.Stats;
using KernelMm.Model.Tlb;
using KernelMm.Model.Vmalloc;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model;

/// <summary>
/// One booted x86-64 kernel: physical memory and the buddy allocator, init_mm's page
/// tables (direct map, high kernel map, vmemmap, vmalloc and modules), change_page_attr,
/// the CPUs' TLBs and the counters. Single-threaded and deterministic: the same calls give
/// the same state.
/// </summary>
public sealed partial class Kernel
{
    /// <summary>
    /// Boots a machine: memblock reservations, the kernel's mappings, the buddy allocator,
    /// KAISER, mark_rodata_ro. <paramref name="applyPatches"/> runs once the subsystems
    /// exist and before any of that, so a patch's hooks see the boot too (the tables
    /// kaiser_init makes, the CPA of mark_rodata_ro).
    /// </summary>
    public Kernel(BootOptions? options = null, Action<Kernel>? applyPatches = null)
    {
        Options = options ?? new BootOptions();
        Options.Validate();
        Frames = new PageFrames(Options.NrPages);
        Zones = BuildZones(Options.NrPages);
        Buddy = new BuddyAllocator(Frames, Zones, VmStat, Log);
        Walker = new PageWalker(Tables);
        DirectMap = new DirectMapCounts(VmStat, () => SystemState == SystemState.SYSTEM_RUNNING);
        Tlbs = new TlbSet(Options.Cpus);
        Cpa = new ChangePageAttr(this);
        SetMemory = new SetMemory(this);
        Vmalloc = new VmallocSpace(this);
        Tlbs.MayBeStale = Vmalloc.IsLazilyFreed;
        Meminfo = new Meminfo(this);
        Memcgs = new MemcgController(this);
        Buddy.MemcgName = id => Memcgs.ById(id)?.Name;
        PageTablePages = new PageTablePages(this);
        Overcommit = new Overcommit(this);
        if (Options.Pti)
            Kaiser = new Kaiser(this);
        Espfix = new Espfix(this);
        applyPatches?.Invoke(this);
        new KernelBoot(this).Boot();
        Overcommit.InitReserves();
        // The PKS series keeps its page-table protection off under PTI (an order-1 pgd has
        // its shadow half); say so rather than ignore the option.
        if (Options.ProtectPageTables && Options.Pti)
            Log.Warn("boot", "protectPageTables: PKS page tables are off because pti is on (the series disables them under page-table isolation); boot with pti: false to use them");
    }

    public BootOptions Options { get; }
    public PageFrames Frames { get; }
    public IReadOnlyList<Zone> Zones { get; }
    public BuddyAllocator Buddy { get; }
    public PageTableStore Tables { get; } = new();
    public PageWalker Walker { get; }
    public VmStat VmStat { get; } = new();
    public KernelLog Log { get; } = new();
    public DirectMapCounts DirectMap { get; }
    public TlbSet Tlbs { get; }
    public ChangePageAttr Cpa { get; }
    public SetMemory SetMemory { get; }
    public VmallocSpace Vmalloc { get; }
    public Meminfo Meminfo { get; }
    public MemcgController Memcgs { get; }
    public PageTableHooks PageTableHooks { get; } = new();

    /// <summary>The source and sink of page-table pages (and the PKS page tables of protectPageTables).</summary>
    public PageTablePages PageTablePages { get; }
    public Sysctl Sysctl { get; } = new();

    /// <summary>vm.overcommit_*, vm_committed_as and __vm_enough_memory.</summary>
    public Overcommit Overcommit { get; }

    /// <summary>ESPfix64's ministacks and their tables.</summary>
    public Espfix Espfix { get; }

    /// <summary>KAISER, when booted with pti; null otherwise.</summary>
    public Kaiser? Kaiser { get; }

    /// <summary>memblock's reserved ranges of pfns, [start, end), never handed to the buddy allocator.</summary>
    public List<(long Start, long End)> ReservedRanges { get; } = [];

    /// <summary>The kernel stacks of the secondary CPUs' idle tasks (first pfn of each).</summary>
    public List<long> IdleStacks { get; } = [];

    /// <summary>Seam: frames a patch holds (its caches), for the frame-conservation check.</summary>
    public List<Func<IEnumerable<(long Pfn, PageOwnerKind Kind, string Who)>>> FrameClaimers { get; } = [];

    /// <summary>Seam: a patch's own invariants (its counters), run with the kernel's checks.</summary>
    public List<Func<IEnumerable<Diagnostics.KernelWarning>>> Invariants { get; } = [];

    /// <summary>Test-only breakage (see <see cref="Diagnostics.FaultInjection"/>).</summary>
    public Diagnostics.FaultInjection Faults
    {
        get => _faults;
        set
        {
            _faults = value;
            Tables.MiscountClears = (value & Diagnostics.FaultInjection.MiscountTableEntries) != 0;
        }
    }

    private Diagnostics.FaultInjection _faults;

    /// <summary>Check TLB coherence at every flush point (cpa_flush, tlb_finish_mmu, vfree); on by default.</summary>
    public bool CheckTlbAtFlushPoints { get; set; } = true;

    /// <summary>Each CPU's per-cpu area (its direct-map address), reserved at boot.</summary>
    public IReadOnlyList<ulong> PerCpuAreas { get; internal set; } = [];
    public KernelImage Image { get; } = new();

    public SystemState SystemState { get; internal set; } = SystemState.SYSTEM_BOOTING;

    /// <summary>init_mm.pgd: init_top_pgt.</summary>
    public long InitTopPgt => Image.InitTopPgtPfn;

    /// <summary>max_pfn_mapped: the direct map covers [0, this).</summary>
    public long MaxPfnMapped { get; internal set; }

    /// <summary>kernel_set_to_readonly: set by mark_rodata_ro; arms the rodata and text static protections.</summary>
    public bool KernelSetToReadonly { get; internal set; }

    /// <summary>
    /// __supported_pte_mask: the bits kernel mappings may carry. KAISER (pti) does not enable
    /// global pages at all (4.9-stable probe_page_size_mask leaves PGE off), so with pti on
    /// _PAGE_GLOBAL is masked out of every kernel mapping and of CPA requests.
    /// </summary>
    public ulong __supported_pte_mask => Options.Pti ? ~_PAGE_GLOBAL : ~0UL;

    /// <summary>massage_pgprot: a kernel prot as it is written into an entry; only a present prot is masked (pgtable.h).</summary>
    public ulong massage_pgprot(ulong prot) => (prot & _PAGE_PRESENT) != 0 ? prot & __supported_pte_mask : prot;

    /// <summary>The first frame of the memmap (struct pages), reserved at the top of RAM.</summary>
    public long MemmapStartPfn { get; internal set; }

    /// <summary>Pages memblock reserved at boot and never handed to the buddy allocator.</summary>
    public long ReservedPages { get; internal set; }

    /// <summary>The shared zero page (empty_zero_page, in .bss).</summary>
    public long ZeroPfn => Image.EmptyZeroPagePfn;

    /// <summary>totalram_pages: pages managed by the buddy allocator.</summary>
    public long TotalRamPages => Zones.Sum(z => z.ManagedPages);

    private static Zone[] BuildZones(long nrPages)
    {
        const long dma = (16L << 20) >> 12, dma32 = (4L << 30) >> 12;
        var zones = new List<Zone> { new(ZoneType.ZONE_DMA, 0, Math.Min(dma, nrPages)) };
        if (nrPages > dma)
            zones.Add(new Zone(ZoneType.ZONE_DMA32, dma, Math.Min(dma32, nrPages)));
        if (nrPages > dma32)
            zones.Add(new Zone(ZoneType.ZONE_NORMAL, dma32, nrPages));
        return [.. zones];
    }

    // ---- kernel page-table pages ----

    /// <summary>
    /// Allocates a kernel page-table page at run time, as the 5.x allocators do: PUD and
    /// PTE pages of init_mm (pud_alloc_one, pte_alloc_one_kernel) are plain zeroed pages;
    /// a PMD page goes through pgtable_pmd_page_ctor, so it is PageTable and counted in
    /// NR_PAGETABLE. Returns -1 when memory is out.
    /// </summary>
    public long AllocKernelTable(PageLevel tableOf)
    {
        long pfn = PageTablePages.Alloc(GfpFlags.GFP_PGTABLE_KERNEL, null, PageOwnerKind.KernelPageTable, 0);
        if (pfn < 0)
            return -1;
        Tables.Create(pfn);
        if (tableOf == PageLevel.PG_LEVEL_2M)
        {
            Frames[pfn].Flags |= PageFlags.PG_table;
            VmStat.Mod(VmStatItem.NR_PAGETABLE, 1);
        }
        return pfn;
    }

    /// <summary>
    /// Resolves (allocating missing tables) the PTE slot of a kernel address below a 4K
    /// mapping: pud_alloc, pmd_alloc, pte_alloc_kernel. Throws ENOMEM when memory is out,
    /// or EEXIST where a large leaf maps the address.
    /// </summary>
    public EntryRef KernelPteAlloc(ulong va)
    {
        var pgd = Tables[InitTopPgt];
        int gi = pgd_index(va);
        if (pgd_none(pgd[gi]))
            pgd[gi] = mk_table(NewTable(PageLevel.PG_LEVEL_1G), _KERNPG_TABLE);
        var pud = Tables[pte_pfn(pgd[gi])];
        int ui = pud_index(va);
        if (pud_none(pud[ui]))
            pud[ui] = mk_table(NewTable(PageLevel.PG_LEVEL_2M), _KERNPG_TABLE);
        else if ((pud[ui] & _PAGE_PSE) != 0) // a 1G leaf, present or not
            throw new KernelErrnoException("pte_alloc_kernel", Errno.EEXIST, $"0x{va:x} is mapped by a 1G leaf");
        var pmd = Tables[pud_pfn(pud[ui])];
        int mi = pmd_index(va);
        if (pmd_none(pmd[mi]))
            pmd[mi] = mk_table(NewTable(PageLevel.PG_LEVEL_4K), _KERNPG_TABLE);
        else if (pmd_large(pmd[mi]))
            throw new KernelErrnoException("pte_alloc_kernel", Errno.EEXIST, $"0x{va:x} is mapped by a 2M leaf");
        return new EntryRef(pmd_pfn(pmd[mi]), pte_index(va), PageLevel.PG_LEVEL_4K);

        long NewTable(PageLevel level)
        {
            long pfn = AllocKernelTable(level);
            return pfn >= 0 ? pfn : throw new KernelErrnoException("pte_alloc_kernel", Errno.ENOMEM);
        }
    }

    // ---- memory access through a CPU ----

    /// <summary>
    /// A kernel access to <paramref name="va"/> on <paramref name="cpu"/>: the TLB if it has
    /// the translation (stale or not, as hardware would), else a walk that fills it and sets
    /// ACCESSED (and DIRTY on a write) in the leaf. A fault is an oops in kernel mode: it is
    /// recorded and the access returns false.
    /// </summary>
    public bool Access(int cpu, ulong va, AccessKind kind = AccessKind.Read)
    {
        if ((uint)cpu >= (uint)Options.Cpus)
            throw new KernelErrnoException("access", Errno.EINVAL, $"no CPU {cpu}");
        var tlb = Tlbs.Cpus[cpu];
        var hit = tlb.Lookup(va);
        Translation t;
        if (hit is { } e && !(kind == AccessKind.Write && (e.Translation.Flags & _PAGE_DIRTY) == 0))
        {
            t = e.Translation;
        }
        else
        {
            var walked = Walker.Translate(InitTopPgt, va);
            if (walked is not { } w)
            {
                Log.Warn("oops", $"BUG: unable to handle page fault for address: {va:x16} (CPU {cpu}, {kind.ToString().ToLowerInvariant()}: not-present page)");
                return false;
            }
            t = w;
            if (!Permits(t, kind))
            {
                Oops(cpu, va, kind);
                return false;
            }
            SetAccessedDirty(va, kind == AccessKind.Write);
            t = Walker.Translate(InitTopPgt, va)!.Value;
            tlb.Fill(t);
            return true;
        }
        if (!Permits(t, kind))
        {
            Oops(cpu, va, kind);
            return false;
        }
        return true;
    }

    private static bool Permits(Translation t, AccessKind kind) => kind switch
    {
        AccessKind.Write => (t.Flags & _PAGE_RW) != 0,
        AccessKind.Execute => (t.Flags & _PAGE_NX) == 0,
        _ => true,
    };

    private void Oops(int cpu, ulong va, AccessKind kind) =>
        Log.Warn("oops", $"BUG: unable to handle page fault for address: {va:x16} (CPU {cpu}, {kind.ToString().ToLowerInvariant()}: permissions violation)");

    /// <summary>What the page walker does on a fill: set A, and D for a write, in the leaf.</summary>
    private void SetAccessedDirty(ulong va, bool write)
    {
        var e = Walker.LookupAddress(InitTopPgt, va);
        if (e.IsNull)
            return;
        ulong v = Walker.Read(e);
        ulong nv = v | _PAGE_ACCESSED | (write ? _PAGE_DIRTY : 0);
        if (nv != v)
            Walker.Write(e, nv);
    }

    /// <summary>The kernel page tables in the ptdump format (debugfs kernel_page_tables), with the W+X check.</summary>
    public Dump.PtDump DumpKernelPageTables() => Dump.PtDump.Walk(Tables, InitTopPgt);

    /// <summary>lookup_address: the entry mapping a kernel address and its level (init_mm).</summary>
    public EntryRef lookup_address(ulong va) => Walker.LookupAddress(InitTopPgt, va);

    /// <summary>__va of a pfn: its direct-map address.</summary>
    public ulong DirectMapAddress(long pfn) => KernelLayout.__va((ulong)pfn << PAGE_SHIFT);

    /// <summary>pfn_range_is_mapped: the direct map covers [start, end).</summary>
    public bool pfn_range_is_mapped(long start, long end) => start >= 0 && end <= MaxPfnMapped;

    /// <summary>virt_addr_valid: a direct-map or kernel-image address of a valid pfn.</summary>
    public bool virt_addr_valid(ulong va)
    {
        ulong phys;
        if (va >= KernelLayout.__START_KERNEL_map)
            phys = va - KernelLayout.__START_KERNEL_map;
        else if (va >= KernelLayout.PAGE_OFFSET && va < KernelLayout.PAGE_OFFSET + KernelLayout.DIRECT_MAP_SIZE)
            phys = va - KernelLayout.PAGE_OFFSET;
        else
            return false;
        return Frames.PfnValid((long)(phys >> PAGE_SHIFT));
    }
}
