namespace KernelMm.Model.Paging;

/// <summary>
/// <c>enum pg_level</c> of <c>arch/x86/include/asm/pgtable_types.h</c>: the level at which
/// lookup_address found the leaf (PG_LEVEL_4K is a PTE, PG_LEVEL_2M a PMD leaf, PG_LEVEL_1G a PUD leaf).
/// </summary>
public enum PageLevel
{
    PG_LEVEL_NONE = 0,
    PG_LEVEL_4K = 1,
    PG_LEVEL_2M = 2,
    PG_LEVEL_1G = 3,
    PG_LEVEL_512G = 4,
}

/// <summary>Sizes and shifts of <c>pgtable_64_types.h</c> for 4-level paging.</summary>
public static class PageShifts
{
    public const int PAGE_SHIFT = 12;
    public const int PMD_SHIFT = 21;
    public const int PUD_SHIFT = 30;
    public const int PGDIR_SHIFT = 39;
    public const int PTRS_PER_TABLE = 512;
    public const ulong PAGE_SIZE = 1UL << PAGE_SHIFT;
    public const ulong PMD_SIZE = 1UL << PMD_SHIFT;
    public const ulong PUD_SIZE = 1UL << PUD_SHIFT;
    public const ulong PGDIR_SIZE = 1UL << PGDIR_SHIFT;
    public const ulong PAGE_MASK = ~(PAGE_SIZE - 1);
    public const ulong PMD_MASK = ~(PMD_SIZE - 1);
    public const ulong PUD_MASK = ~(PUD_SIZE - 1);
    public const ulong PGDIR_MASK = ~(PGDIR_SIZE - 1);

    public static int pgd_index(ulong va) => (int)((va >> PGDIR_SHIFT) & 511);
    public static int pud_index(ulong va) => (int)((va >> PUD_SHIFT) & 511);
    public static int pmd_index(ulong va) => (int)((va >> PMD_SHIFT) & 511);
    public static int pte_index(ulong va) => (int)((va >> PAGE_SHIFT) & 511);

    /// <summary>page_level_size: bytes mapped by one entry at a leaf level.</summary>
    public static ulong page_level_size(PageLevel level) => 1UL << page_level_shift(level);

    public static int page_level_shift(PageLevel level) => (int)level switch
    {
        1 => PAGE_SHIFT,
        2 => PMD_SHIFT,
        3 => PUD_SHIFT,
        4 => PGDIR_SHIFT,
        _ => throw new ArgumentOutOfRangeException(nameof(level)),
    };

    public static ulong page_level_mask(PageLevel level) => ~(page_level_size(level) - 1);

    /// <summary>Sign-extends bit 47, making an address canonical.</summary>
    public static ulong Canonical(ulong va) => (ulong)(((long)(va << 16)) >> 16);

    public static bool IsCanonical(ulong va) => Canonical(va) == va;
}
