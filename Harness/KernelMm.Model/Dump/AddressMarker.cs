namespace KernelMm.Model.Dump;

/// <summary>struct addr_marker: a named start address of the dump; MaxLines caps the lines printed under it (0: no cap).</summary>
public readonly record struct AddressMarker(ulong StartAddress, string? Name, int MaxLines = 0)
{
    /// <summary>
    /// address_markers[] of arch/x86/mm/dump_pagetables.c for x86-64 with
    /// CONFIG_MODIFY_LDT_SYSCALL, CONFIG_X86_ESPFIX64 and CONFIG_EFI, without KASAN.
    /// </summary>
    public static readonly AddressMarker[] X86_64 =
    [
        new(0, "User Space"),
        new(1UL << 63, "Kernel Space"),
        new(KernelLayout.LDT_BASE_ADDR, "LDT remap"),
        new(KernelLayout.PAGE_OFFSET, "Low Kernel Mapping"),
        new(KernelLayout.VMALLOC_START, "vmalloc() Area"),
        new(KernelLayout.VMEMMAP_START, "Vmemmap"),
        new(KernelLayout.CPU_ENTRY_AREA_BASE, "CPU entry Area"),
        new(KernelLayout.ESPFIX_BASE_ADDR, "ESPfix Area", 16),
        new(KernelLayout.EFI_VA_END, "EFI Runtime Services"),
        new(KernelLayout.__START_KERNEL_map, "High Kernel Mapping"),
        new(KernelLayout.MODULES_VADDR, "Modules"),
        new(KernelLayout.MODULES_END, "End Modules"),
        new(KernelLayout.FIXADDR_START, "Fixmap Area"),
        new(ulong.MaxValue, null),
    ];
}
