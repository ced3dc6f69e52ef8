using KernelMm.Model.Memory;
using KernelMm.Model.Paging;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Mm;

/// <summary>
/// KAISER as 4.9-stable has it (arch/x86/mm/kaiser.c): a shadow pgd per mm whose kernel
/// half points at 256 PUD tables made at boot and shared by every mm; what user mode must
/// see of the kernel (per-CPU entry areas, entry text, the IDT, each task's stack top, LDTs)
/// is mapped there at 4K by kaiser_add_mapping; kaiser_remove_mapping clears the entries
/// and never frees a table. Shadow tables are in no VmPTE and no NR_PAGETABLE.
/// </summary>
public sealed class Kaiser
{
    /// <summary>The user-mapped part of each CPU's per-cpu area (TSS, GDT, exception stacks...).</summary>
    public const ulong PerCpuUserMappedSize = 40UL << 10;

    private readonly Kernel _k;

    internal Kaiser(Kernel k) => _k = k;

    /// <summary>Shadow tables installed (the 256 boot PUD tables and every table kaiser_pagetable_walk added).</summary>
    public long TablesInstalled { get; private set; }

    /// <summary>
    /// Seam: a shadow table was installed (kaiser_pagetable_walk's install under the lock,
    /// or one of the 256 boot PUD tables). kaiser-nr-overhead counts NR_KAISERTABLE here.
    /// </summary>
    public Action<long>? TableInstalled { get; set; }

    /// <summary>Test-only: runs between the allocation and the locked recheck, as a racing CPU would.</summary>
    internal Action<ulong>? RaceBeforeInstall { get; set; }

    private long ShadowPgd => _k.Image.InitShadowPgtPfn;

    /// <summary>
    /// kaiser_init (4.9 arch/x86/mm/kaiser.c): kaiser_init_all_pgds (a PUD table for each
    /// kernel-half slot of the init shadow pgd), then, each through the WARNing _early
    /// wrappers: the per-CPU user-mapped sections, the entry text, the IDT (RO), the trace
    /// IDT's descriptor and table (CONFIG_TRACING), the debug IDT's descriptor and table,
    /// and X86_CR3_PCID_KERN_VAR, all __PAGE_KERNEL but the IDT and the entry text.
    /// </summary>
    internal void Init(IReadOnlyList<ulong> perCpuAreas)
    {
        var shadow = _k.Tables[ShadowPgd];
        for (int i = 256; i < 512; i++)
        {
            long pfn = _k.Buddy.AllocPages(0, GfpFlags.GFP_KERNEL | GfpFlags.__GFP_ZERO, PageOwnerKind.KaiserTable);
            if (pfn < 0)
                throw new InvalidOperationException("kaiser_init: out of memory at boot");
            _k.Tables.Create(pfn);
            shadow[i] = mk_table(pfn, _KERNPG_TABLE);
            Installed(pfn);
        }
        var img = _k.Image;
        foreach (var area in perCpuAreas)
            AddUserMapEarly(area, PerCpuUserMappedSize, __PAGE_KERNEL);
        AddUserMapEarly(img.__entry_text_start, img.__entry_text_end - img.__entry_text_start, __PAGE_KERNEL_RX);
        AddUserMapEarly(img.idt_table, GateDescSize * NR_VECTORS, __PAGE_KERNEL_RO);
        AddUserMapEarly(img.trace_idt_descr, DescPtrSize, __PAGE_KERNEL);
        AddUserMapEarly(img.trace_idt_table, GateDescSize * NR_VECTORS, __PAGE_KERNEL);
        AddUserMapEarly(img.debug_idt_descr, DescPtrSize, __PAGE_KERNEL);
        AddUserMapEarly(img.debug_idt_table, GateDescSize * NR_VECTORS, __PAGE_KERNEL);
        AddUserMapEarly(img.X86_CR3_PCID_KERN_VAR, PAGE_SIZE, __PAGE_KERNEL);
    }

    /// <summary>NR_VECTORS, sizeof(gate_desc) and sizeof(struct desc_ptr) on x86-64.</summary>
    public const ulong NR_VECTORS = 256, GateDescSize = 16, DescPtrSize = 10;

    /// <summary>kaiser_add_user_map_early: kaiser_add_user_map, and WARN_ON(ret).</summary>
    private void AddUserMapEarly(ulong addr, ulong size, ulong flags)
    {
        int ret = AddMapping(addr, size, flags);
        if (ret != 0)
            _k.Log.Warn("kaiser", $"WARNING: kaiser_init: kaiser_add_user_map(0x{addr:x}, {size}) returned {ret}");
    }

    private readonly List<(long Pfn, PageOwnerKind Kind, string Who)> _replaced = [];

    /// <summary>KAISER tables installed and then unlinked by a pgd copy over them (init_espfix_bsp's).</summary>
    public long UnlinkedTables => _replaced.Count;

    /// <summary>
    /// A shadow pgd entry set over the PUD table kaiser_init_all_pgds put there
    /// (init_espfix_bsp's copy): that table stays allocated and counted, linked from
    /// nowhere, as 4.9 leaves it.
    /// </summary>
    internal void ReplaceShadowPgd(int index, ulong entry)
    {
        var shadow = _k.Tables[ShadowPgd];
        if (!pgd_none(shadow[index]))
        {
            if (_replaced.Count == 0)
                _k.FrameClaimers.Add(() => _replaced);
            _replaced.Add((pte_pfn(shadow[index]), PageOwnerKind.KaiserTable, $"KAISER PUD table of shadow pgd[{index}], replaced by init_espfix_bsp"));
        }
        shadow[index] = entry;
    }

    private void Installed(long pfn)
    {
        TablesInstalled++;
        TableInstalled?.Invoke(pfn);
    }

    /// <summary>The shadow tables' dump (the user-mode view of the kernel), in the ptdump format.</summary>
    public Dump.PtDump DumpShadow() => Dump.PtDump.Walk(_k.Tables, ShadowPgd, checkWx: false);

    /// <summary>
    /// kaiser_add_user_map (kaiser_add_mapping): each page of [addr, addr+size) gets a shadow
    /// PTE with the same frame as init_mm maps there; a different existing PTE is
    /// WARN_ON_ONCE. Returns 0, -EIO where init_mm maps nothing (get_pa_from_mapping's
    /// WARN_ON_ONCE), or -ENOMEM where a shadow table could not be allocated; the pages
    /// before the failing one stay mapped.
    /// </summary>
    public int AddMapping(ulong addr, ulong size, ulong flags)
    {
        flags = _k.massage_pgprot(flags);
        ulong end = KernelLayout.RoundUp(addr + size, PAGE_SIZE);
        for (ulong a = addr & PAGE_MASK; a < end; a += PAGE_SIZE)
        {
            if (_k.Walker.Translate(_k.InitTopPgt, a) is not { } t)
            {
                _k.Log.WarnOnce("kaiser-get-pa", $"WARNING: get_pa_from_mapping: 0x{a:x} is not mapped in init_mm");
                return -(int)Errno.EIO;
            }
            long pfn = t.PfnOf(a);
            if (PagetableWalk(a) is not { } slot)
                return -(int)Errno.ENOMEM;
            var table = _k.Tables[slot.TablePfn];
            ulong want = pfn_pte(pfn, flags);
            if (pte_none(table[slot.Index]))
                table[slot.Index] = want;
            else if (table[slot.Index] != want)
                _k.Log.WarnOnce("kaiser", $"WARNING: kaiser_add_mapping: shadow pte of 0x{a:x} is {table[slot.Index]:x}, not {want:x}");
        }
        return 0;
    }

    /// <summary>kaiser_remove_mapping (unmap_pud_range_nofree): the PTEs go, the tables stay.</summary>
    public void RemoveMapping(ulong addr, ulong size)
    {
        ulong end = KernelLayout.RoundUp(addr + size, PAGE_SIZE);
        for (ulong a = addr & PAGE_MASK; a < end; a += PAGE_SIZE)
        {
            var e = _k.Walker.LookupAddress(ShadowPgd, a);
            if (!e.IsNull && e.Level == PageLevel.PG_LEVEL_4K)
                _k.Walker.Write(e, 0);
        }
    }

    /// <summary>
    /// kaiser_pagetable_walk with allocate: a missing PMD or PTE table is allocated (zeroed,
    /// not accounted), then installed under shadow_table_allocation_lock if the entry is
    /// still none (and counted), else freed.
    /// </summary>
    private EntryRef? PagetableWalk(ulong addr)
    {
        var pgd = _k.Tables[ShadowPgd];
        ulong g = pgd[pgd_index(addr)];
        if (pgd_none(g))
        {
            _k.Log.WarnOnce("kaiser", "WARNING: All shadow pgds should have been populated");
            return null;
        }
        var pud = _k.Tables[pte_pfn(g)];
        int ui = pud_index(addr);
        if (!Populate(pud, ui, addr))
            return null;
        var pmd = _k.Tables[pte_pfn(pud[ui])];
        int mi = pmd_index(addr);
        if (!Populate(pmd, mi, addr))
            return null;
        return new EntryRef(pte_pfn(pmd[mi]), pte_index(addr), PageLevel.PG_LEVEL_4K);
    }

    private bool Populate(PageTable table, int index, ulong addr)
    {
        if (!pgd_none(table[index]))
            return true;
        long pfn = _k.Buddy.AllocPages(0, GfpFlags.GFP_KERNEL | GfpFlags.__GFP_ZERO, PageOwnerKind.KaiserTable);
        if (pfn < 0)
            return false;
        RaceBeforeInstall?.Invoke(addr);
        if (pgd_none(table[index]))
        {
            _k.Tables.Create(pfn);
            table[index] = mk_table(pfn, _KERNPG_TABLE);
            Installed(pfn);
        }
        else
        {
            _k.Buddy.FreePages(pfn, 0);
        }
        return true;
    }

    /// <summary>kaiser_map_thread_stack: the top page of a task's stack.</summary>
    internal void MapThreadStack(Process p) => AddMapping(p.StackTopPage, PAGE_SIZE, __PAGE_KERNEL);

    internal void UnmapThreadStack(Process p) => RemoveMapping(p.StackTopPage, PAGE_SIZE);
}
