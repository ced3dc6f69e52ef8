namespace KernelMm.Harness.Pictures;

/// <summary>
/// The attributes a direct-map cell is marked with, each its own strip under the cell:
/// what CPA changes on the direct map and a reviewer of the series looks for.
/// </summary>
[Flags]
public enum MapMarks
{
    None = 0,

    /// <summary>Present without <c>_PAGE_RW</c> (set_memory_ro, mark_rodata_ro's alias).</summary>
    ReadOnly = 1,

    /// <summary>Present without <c>_PAGE_NX</c>: executable (set_memory_x, module text's alias).</summary>
    Exec = 2,

    /// <summary>An entry without <c>_PAGE_PRESENT</c> (set_memory_np).</summary>
    NotPresent = 4,

    /// <summary>A protection key in bits 59-62 (set_memory_pks: the PKS page tables of the grouped-pages series).</summary>
    Pkey = 8,

    /// <summary><c>_PAGE_KERNEL_4K</c> (SOFTW3): set_memory_4k under restore-large-pages, which the collapse then leaves split.</summary>
    Kernel4K = 16,

    /// <summary>Every mark.</summary>
    All = ReadOnly | Exec | NotPresent | Pkey | Kernel4K,

    /// <summary>The marks the ptdump text prints (RW/ro, NX/x, a blank attribute column): the key and the software bits it does not.</summary>
    Printed = ReadOnly | Exec | NotPresent,
}
