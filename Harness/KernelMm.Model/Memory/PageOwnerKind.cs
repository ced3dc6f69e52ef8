namespace KernelMm.Model.Memory;

/// <summary>
/// Who holds an allocated frame: enough to explain a leak (CONFIG_PAGE_OWNER's job in the
/// kernel). Four bits in <see cref="Page"/>; the owner id beside it says which one.
/// </summary>
public enum PageOwnerKind : byte
{
    /// <summary>Free in the buddy allocator (or never allocated).</summary>
    None = 0,
    /// <summary>memblock-reserved at boot: firmware, the first megabyte.</summary>
    Reserved = 1,
    /// <summary>The kernel image (text, rodata, data, bss).</summary>
    KernelImage = 2,
    /// <summary>A kernel page table built at boot or by a kernel mapping (vmalloc, modules).</summary>
    KernelPageTable = 3,
    /// <summary>A table of change_page_attr's split_large_page.</summary>
    CpaSplitTable = 4,
    /// <summary>A user page table (id: pid).</summary>
    UserPageTable = 5,
    /// <summary>A user anonymous page (id: pid of the first mapper).</summary>
    UserAnon = 6,
    /// <summary>A kernel stack (id: pid).</summary>
    KernelStack = 7,
    /// <summary>An LDT (id: pid).</summary>
    Ldt = 8,
    /// <summary>Backing of a vmalloc area (id: area number).</summary>
    Vmalloc = 9,
    /// <summary>Backing of a module (id: module number).</summary>
    Module = 10,
    /// <summary>A page allocated by a caller of alloc_pages (id: caller's tag).</summary>
    Kernel = 11,
    /// <summary>A KAISER shadow page table.</summary>
    KaiserTable = 12,
    /// <summary>Held in a patch's cache (id: the cache).</summary>
    PatchCache = 13,
    /// <summary>Leaked after "Bad page state": the kernel never frees it again.</summary>
    BadPage = 14,
    /// <summary>The shared zero page and other static kernel pages.</summary>
    ZeroPage = 15,
}
