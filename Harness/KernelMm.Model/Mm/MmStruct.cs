using KernelMm.Model.Memory;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Model.Mm;

/// <summary>
/// An mm_struct: the pgd (8 KiB with KAISER: kernel pgd then shadow), the VMAs kept sorted,
/// the page-table byte count behind VmPTE (mm_pgtables_bytes) and the RSS counters. The
/// operations are split by concern: page tables, faults, mmap/munmap/mprotect/madvise,
/// fork and teardown.
/// </summary>
public sealed partial class MmStruct
{
    /// <summary>STACK_TOP without randomisation: TASK_SIZE_MAX.</summary>
    public const ulong STACK_TOP = KernelLayout.TASK_SIZE_MAX;

    /// <summary>mmap_base with no randomisation: TASK_SIZE less the 128 MiB minimum gap (mm/util.c mmap_base).</summary>
    public const ulong MMAP_BASE = KernelLayout.TASK_SIZE_MAX - (128UL << 20);

    /// <summary>mmap_min_addr: nothing is mapped below 64 KiB.</summary>
    public const ulong MMAP_MIN_ADDR = 0x10000;

    private readonly Kernel _k;
    private readonly List<Vma> _vmas = [];
    private int _nextAnonVma = 1;

    internal MmStruct(Kernel k, Process owner)
    {
        _k = k;
        Owner = owner;
        PgdAlloc();
    }

    public Process Owner { get; }

    /// <summary>The pgd frame the CPU loads into CR3 in kernel mode.</summary>
    public long Pgd { get; private set; }

    /// <summary>The shadow (user) pgd with KAISER, else -1.</summary>
    public long ShadowPgd { get; private set; } = -1;

    /// <summary>The last PTE table this mm's faults and walks reached (see <see cref="Paging.PteTableCache"/>).</summary>
    internal Paging.PteTableCache PteCache { get; } = new();

    /// <summary>VMAs in address order.</summary>
    public IReadOnlyList<Vma> Vmas => _vmas;

    /// <summary>mm_pgtables_bytes: PTE, PMD and PUD pages of this mm (not the pgd).</summary>
    public long PgtablesBytes { get; private set; }

    /// <summary>MM_ANONPAGES.</summary>
    public long AnonRss { get; private set; }

    public long HiwaterRss { get; private set; }

    /// <summary>total_vm in pages, and its peak.</summary>
    public long TotalVm => _vmas.Sum(v => (long)(v.Length >> 12));

    public long HiwaterVm { get; private set; }

    public long DataVm => _vmas.Where(v => (v.Flags & (VmFlags.VM_WRITE | VmFlags.VM_SHARED | VmFlags.VM_STACK)) == VmFlags.VM_WRITE).Sum(v => (long)(v.Length >> 12));

    public long StackVm => _vmas.Where(v => (v.Flags & VmFlags.VM_STACK) != 0).Sum(v => (long)(v.Length >> 12));

    /// <summary>Whether exit_mmap ran.</summary>
    public bool TornDown { get; private set; }

    private Memcg? ChargeTo => Owner.Memcg;

    private void AddRss(long delta)
    {
        if (delta < 0 && (_k.Faults & Diagnostics.FaultInjection.SkipRssDecrement) != 0)
            return;
        AnonRss += delta;
        HiwaterRss = Math.Max(HiwaterRss, AnonRss);
    }

    private void NoteVm() => HiwaterVm = Math.Max(HiwaterVm, TotalVm);

    /// <summary>find_vma: the first VMA that ends above <paramref name="addr"/>.</summary>
    public Vma? FindVma(ulong addr)
    {
        int lo = 0, hi = _vmas.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) / 2;
            if (_vmas[mid].End <= addr)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo < _vmas.Count ? _vmas[lo] : null;
    }

    private int IndexOf(Vma v) => _vmas.IndexOf(v);

    private void InsertVma(Vma v)
    {
        int i = 0;
        while (i < _vmas.Count && _vmas[i].Start < v.Start)
            i++;
        _vmas.Insert(i, v);
        NoteVm();
    }

    /// <summary>Gives a VMA its anon_vma at the first fault (anon_vma_prepare).</summary>
    private void AnonVmaPrepare(Vma v)
    {
        if (v.AnonVma == 0)
            v.AnonVma = _nextAnonVma++;
    }


    /// <summary>A user PTE's flag bits that survive pte_modify (_PAGE_CHG_MASK).</summary>
    internal const ulong _PAGE_CHG_MASK = PTE_PFN_MASK | _PAGE_PCD | _PAGE_PWT | _PAGE_SPECIAL | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_SOFTW3 | _PAGE_SOFTW4;

    private PageFrames Frames => _k.Frames;
}
