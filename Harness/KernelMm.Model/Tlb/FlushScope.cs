namespace KernelMm.Model.Tlb;

/// <summary>What a flush point made coherent: the kernel half everywhere, one mm's user half where it runs, or everything.</summary>
public readonly record struct FlushScope(bool User, bool Kernel, long Pgd)
{
    public static FlushScope Everything { get; } = new(true, true, -1);

    /// <summary>cpa_flush, vfree: kernel mappings, on every CPU.</summary>
    public static FlushScope KernelHalf { get; } = new(false, true, -1);

    /// <summary>tlb_finish_mmu, flush_tlb_mm_range: an mm's user mappings, on the CPUs that have it loaded.</summary>
    public static FlushScope Mm(long pgd) => new(true, false, pgd);

    public bool Covers(ulong va) => va < KernelLayout.USER_SPACE_END ? User : Kernel;
}
