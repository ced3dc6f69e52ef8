namespace KernelMm.Model;

/// <summary>
/// The x86-64 virtual memory map with 4-level paging and no KASLR
/// (Documentation/arch/x86/x86_64/mm.rst, arch/x86/include/asm/pgtable_64_types.h).
/// </summary>
public static class KernelLayout
{
    /// <summary>TASK_SIZE_MAX: the end of user space (47 bits, less a guard page).</summary>
    public const ulong TASK_SIZE_MAX = 0x00007ffffffff000;
    /// <summary>The end of the lower canonical half.</summary>
    public const ulong USER_SPACE_END = 0x0000800000000000;
    /// <summary>The start of the kernel half (bit 63 set, canonical).</summary>
    public const ulong KERNEL_SPACE_START = 0xffff800000000000;
    public const ulong GUARD_HOLE_BASE_ADDR = 0xffff800000000000;
    public const ulong GUARD_HOLE_END_ADDR = 0xffff880000000000;
    public const ulong LDT_BASE_ADDR = 0xffff880000000000;
    public const ulong PAGE_OFFSET = 0xffff888000000000;
    /// <summary>The direct map is 64 TiB.</summary>
    public const ulong DIRECT_MAP_SIZE = 64UL << 40;
    public const ulong VMALLOC_START = 0xffffc90000000000;
    /// <summary>VMALLOC_SIZE_TB = 32.</summary>
    public const ulong VMALLOC_END = VMALLOC_START + (32UL << 40) - 1;
    public const ulong VMEMMAP_START = 0xffffea0000000000;
    public const ulong CPU_ENTRY_AREA_BASE = 0xfffffe0000000000;
    public const ulong ESPFIX_BASE_ADDR = 0xffffff0000000000;
    public const ulong EFI_VA_END = 0xffffffef00000000;
    public const ulong __START_KERNEL_map = 0xffffffff80000000;
    /// <summary>KERNEL_IMAGE_SIZE without RANDOMIZE_BASE: 512 MiB.</summary>
    public const ulong KERNEL_IMAGE_SIZE = 512UL << 20;
    public const ulong MODULES_VADDR = __START_KERNEL_map + KERNEL_IMAGE_SIZE;
    public const ulong MODULES_END = 0xffffffffff000000;
    public const ulong MODULES_LEN = MODULES_END - MODULES_VADDR;
    /// <summary>The fixmap sits just below the vsyscall page (FIXADDR_TOP).</summary>
    public const ulong FIXADDR_START = 0xffffffffff578000;
    public const ulong VSYSCALL_ADDR = 0xffffffffff600000;

    /// <summary>Where the kernel image is loaded: CONFIG_PHYSICAL_START = 16 MiB.</summary>
    public const ulong CONFIG_PHYSICAL_START = 0x1000000;
    public const ulong __START_KERNEL = __START_KERNEL_map + CONFIG_PHYSICAL_START;

    /// <summary>ISA_END_ADDRESS: the first megabyte stays reserved.</summary>
    public const ulong ISA_END_ADDRESS = 0x100000;

    /// <summary>__va for a physical address.</summary>
    public static ulong __va(ulong phys) => phys + PAGE_OFFSET;

    /// <summary>__pa of a direct-map address.</summary>
    public static ulong __pa(ulong va) => va - PAGE_OFFSET;

    public static bool within(ulong addr, ulong start, ulong end) => addr >= start && addr < end;

    public static ulong RoundUp(ulong x, ulong align) => (x + align - 1) & ~(align - 1);
}
