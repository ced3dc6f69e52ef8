namespace KernelMm.Model.Paging;

/// <summary>
/// x86-64 page-table entry bits, as <c>arch/x86/include/asm/pgtable_types.h</c> names them.
/// The era is frozen at 5.x (the era of the restore-large-pages RFC and the PKS series):
/// SOFTW4 is bit 58, and read-only kernel mappings keep DIRTY (set_memory_ro clears RW only).
/// </summary>
public static class PageBits
{
    public const ulong _PAGE_PRESENT = 1UL << 0;
    public const ulong _PAGE_RW = 1UL << 1;
    public const ulong _PAGE_USER = 1UL << 2;
    public const ulong _PAGE_PWT = 1UL << 3;
    public const ulong _PAGE_PCD = 1UL << 4;
    public const ulong _PAGE_ACCESSED = 1UL << 5;
    public const ulong _PAGE_DIRTY = 1UL << 6;
    /// <summary>PSE on PMD/PUD entries; the same bit is PAT on a 4K PTE.</summary>
    public const ulong _PAGE_PSE = 1UL << 7;
    public const ulong _PAGE_PAT = 1UL << 7;
    /// <summary>GLOBAL when present; PROTNONE when PRESENT is clear.</summary>
    public const ulong _PAGE_GLOBAL = 1UL << 8;
    public const ulong _PAGE_SOFTW1 = 1UL << 9;
    public const ulong _PAGE_SOFTW2 = 1UL << 10;
    public const ulong _PAGE_SOFTW3 = 1UL << 11;
    /// <summary>PAT bit of 2M/1G leaves.</summary>
    public const ulong _PAGE_PAT_LARGE = 1UL << 12;
    public const ulong _PAGE_SOFTW4 = 1UL << 58;
    public const ulong _PAGE_PKEY_BIT0 = 1UL << 59;
    public const ulong _PAGE_PKEY_BIT1 = 1UL << 60;
    public const ulong _PAGE_PKEY_BIT2 = 1UL << 61;
    public const ulong _PAGE_PKEY_BIT3 = 1UL << 62;
    public const ulong _PAGE_PKEY_MASK = _PAGE_PKEY_BIT0 | _PAGE_PKEY_BIT1 | _PAGE_PKEY_BIT2 | _PAGE_PKEY_BIT3;
    public const ulong _PAGE_NX = 1UL << 63;

    /// <summary>SOFTW1: <c>_PAGE_SPECIAL</c> for user PTEs, <c>_PAGE_CPA_TEST</c> for cpa-test.</summary>
    public const ulong _PAGE_SPECIAL = _PAGE_SOFTW1;
    public const ulong _PAGE_CPA_TEST = _PAGE_SOFTW1;
    /// <summary>SOFTW3: set by set_memory_4k in the restore-large-pages RFC (and upstream since 2025).</summary>
    public const ulong _PAGE_KERNEL_4K = _PAGE_SOFTW3;
    public const ulong _PAGE_PROTNONE = _PAGE_GLOBAL;

    public const ulong _PAGE_CACHE_MASK = _PAGE_PWT | _PAGE_PCD | _PAGE_PAT;
    public const ulong _PAGE_LARGE_CACHE_MASK = _PAGE_PWT | _PAGE_PCD | _PAGE_PAT_LARGE;

    /// <summary>__PHYSICAL_MASK_SHIFT is 52 on modern x86-64.</summary>
    public const int __PHYSICAL_MASK_SHIFT = 52;
    public const ulong PHYSICAL_PAGE_MASK = ((1UL << __PHYSICAL_MASK_SHIFT) - 1) & ~0xfffUL;
    /// <summary>PTE_PFN_MASK: bits 12..51.</summary>
    public const ulong PTE_PFN_MASK = PHYSICAL_PAGE_MASK;
    /// <summary>PTE_FLAGS_MASK: bits 0-11 and 52-63.</summary>
    public const ulong PTE_FLAGS_MASK = ~PTE_PFN_MASK;
    public const ulong PHYSICAL_PMD_PAGE_MASK = PHYSICAL_PAGE_MASK & ~((1UL << 21) - 1);
    public const ulong PHYSICAL_PUD_PAGE_MASK = PHYSICAL_PAGE_MASK & ~((1UL << 30) - 1);

    /// <summary>Kernel table entries: P|RW|A|D.</summary>
    public const ulong _KERNPG_TABLE = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY;
    /// <summary>User table entries: P|RW|USER|A|D.</summary>
    public const ulong _PAGE_TABLE = _KERNPG_TABLE | _PAGE_USER;
    public const ulong __PAGE_KERNEL_EXEC = _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED | _PAGE_DIRTY | _PAGE_GLOBAL;
    public const ulong __PAGE_KERNEL = __PAGE_KERNEL_EXEC | _PAGE_NX;
    public const ulong __PAGE_KERNEL_LARGE = __PAGE_KERNEL | _PAGE_PSE;
    public const ulong __PAGE_KERNEL_LARGE_EXEC = __PAGE_KERNEL_EXEC | _PAGE_PSE;
    /// <summary>Read-only kernel in the 5.x era the model is frozen at: __PAGE_KERNEL without RW (DIRTY kept).</summary>
    public const ulong __PAGE_KERNEL_RO = __PAGE_KERNEL & ~_PAGE_RW;
    /// <summary>Read-only executable kernel, 5.x: __PAGE_KERNEL_EXEC without RW.</summary>
    public const ulong __PAGE_KERNEL_RX = __PAGE_KERNEL_EXEC & ~_PAGE_RW;

    /// <summary>User anonymous memory, as vm_get_page_prot gives for the VMA flags (before A/D).</summary>
    public const ulong PAGE_SHARED_EXEC = _PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_ACCESSED;
    public const ulong PAGE_COPY_NOEXEC = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX;
    public const ulong PAGE_READONLY = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED | _PAGE_NX;
    public const ulong PAGE_NONE = _PAGE_PROTNONE | _PAGE_ACCESSED;

    /// <summary>The bits <c>pte_flags</c> keeps of a 4K entry.</summary>
    public static ulong pte_flags(ulong pte) => pte & PTE_FLAGS_MASK;

    /// <summary>
    /// pmd_flags/pud_flags of a leaf use the 2M/1G physical masks, so they keep bit 12
    /// (PAT_LARGE) and the low reserved bits (pgtable_types.h pmd_flags_mask).
    /// </summary>
    public static ulong pmd_flags(ulong pmd) => pmd_large(pmd) ? pmd & ~PHYSICAL_PMD_PAGE_MASK : pmd & PTE_FLAGS_MASK;

    /// <summary>pud_flags: pud_flags_mask tests PSE alone, so a not-present 1G leaf keeps its 1G mask.</summary>
    public static ulong pud_flags(ulong pud) => (pud & _PAGE_PSE) != 0 ? pud & ~PHYSICAL_PUD_PAGE_MASK : pud & PTE_FLAGS_MASK;

    public static bool pte_present(ulong pte) => (pte & (_PAGE_PRESENT | _PAGE_PROTNONE)) != 0;
    public static bool pte_none(ulong pte) => pte == 0;
    public static bool pmd_none(ulong pmd) => pmd == 0;
    public static bool pud_none(ulong pud) => pud == 0;
    public static bool pgd_none(ulong pgd) => pgd == 0;
    public static bool pmd_present(ulong pmd) => (pmd & (_PAGE_PRESENT | _PAGE_PROTNONE | _PAGE_PSE)) != 0;
    public static bool pud_present(ulong pud) => (pud & _PAGE_PRESENT) != 0;
    public static bool pgd_present(ulong pgd) => (pgd & _PAGE_PRESENT) != 0;

    /// <summary>pmd_large: a 2M leaf (PSE set). A not-present leaf keeps PSE, as after set_memory_np.</summary>
    public static bool pmd_large(ulong pmd) => (pmd & _PAGE_PSE) != 0;
    /// <summary>pud_large (5.x pgtable.h): a present 1G leaf, PSE and PRESENT both set.</summary>
    public static bool pud_large(ulong pud) => (pud & (_PAGE_PSE | _PAGE_PRESENT)) == (_PAGE_PSE | _PAGE_PRESENT);

    public static bool pte_write(ulong pte) => (pte & _PAGE_RW) != 0;
    public static bool pte_exec(ulong pte) => (pte & _PAGE_NX) == 0;
    public static bool pte_young(ulong pte) => (pte & _PAGE_ACCESSED) != 0;
    public static bool pte_dirty(ulong pte) => (pte & _PAGE_DIRTY) != 0;
    public static bool pte_special(ulong pte) => (pte & _PAGE_SPECIAL) != 0;

    public static long pte_pfn(ulong pte) => (long)((pte & PTE_PFN_MASK) >> 12);
    public static long pmd_pfn(ulong pmd) => (long)((pmd & (pmd_large(pmd) ? PHYSICAL_PMD_PAGE_MASK : PTE_PFN_MASK)) >> 12);
    /// <summary>pud_pfn: pud_pfn_mask tests PSE alone (present or not).</summary>
    public static long pud_pfn(ulong pud) => (long)((pud & ((pud & _PAGE_PSE) != 0 ? PHYSICAL_PUD_PAGE_MASK : PTE_PFN_MASK)) >> 12);

    /// <summary>pfn_pte: the prot is ORed in whole, as the kernel does (a 1G split keeps PSE and bit 12).</summary>
    public static ulong pfn_pte(long pfn, ulong prot) => (((ulong)pfn << 12) & PHYSICAL_PAGE_MASK) | prot;
    public static ulong pfn_pmd(long pfn, ulong prot) => (((ulong)pfn << 12) & PHYSICAL_PAGE_MASK) | prot;
    public static ulong pfn_pud(long pfn, ulong prot) => (((ulong)pfn << 12) & PHYSICAL_PAGE_MASK) | prot;

    /// <summary>A table entry pointing at the table in frame <paramref name="pfn"/>.</summary>
    public static ulong mk_table(long pfn, ulong prot) => (((ulong)pfn << 12) & PTE_PFN_MASK) | prot;

    /// <summary>pgprot_4k_2_large: move the 4K PAT bit (7) into the large PAT bit (12).</summary>
    public static ulong pgprot_4k_2_large(ulong prot)
    {
        ulong val = prot & ~(_PAGE_PAT | _PAGE_PAT_LARGE);
        return val | ((prot & _PAGE_PAT) << 5);
    }

    /// <summary>pgprot_large_2_4k: move the large PAT bit (12) into the 4K PAT bit (7), dropping PSE.</summary>
    public static ulong pgprot_large_2_4k(ulong prot)
    {
        ulong val = prot & ~(_PAGE_PAT | _PAGE_PAT_LARGE);
        return val | ((prot & _PAGE_PAT_LARGE) >> 5);
    }
}
