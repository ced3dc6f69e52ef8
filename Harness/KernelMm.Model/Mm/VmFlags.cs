using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Model.Mm;

/// <summary>vm_flags of a VMA (include/linux/mm.h), the subset anonymous memory uses.</summary>
[Flags]
public enum VmFlags : uint
{
    VM_NONE = 0,
    VM_READ = 0x1,
    VM_WRITE = 0x2,
    VM_EXEC = 0x4,
    VM_SHARED = 0x8,
    VM_MAYREAD = 0x10,
    VM_MAYWRITE = 0x20,
    VM_MAYEXEC = 0x40,
    VM_GROWSDOWN = 0x100,
    VM_LOCKED = 0x2000,
    VM_ACCOUNT = 0x100000,
    VM_NORESERVE = 0x200000,
    VM_STACK = VM_GROWSDOWN,
}

/// <summary>vm_get_page_prot: protection_map[] of x86-64 for private mappings.</summary>
public static class VmPageProt
{
    public static ulong vm_get_page_prot(VmFlags flags)
    {
        // __P000..__P111: private writable mappings are PAGE_COPY (no RW): write faults add it.
        bool r = (flags & VmFlags.VM_READ) != 0, w = (flags & VmFlags.VM_WRITE) != 0, x = (flags & VmFlags.VM_EXEC) != 0;
        if (!r && !w && !x)
            return PAGE_NONE;
        ulong prot = _PAGE_PRESENT | _PAGE_USER | _PAGE_ACCESSED;
        if (!x)
            prot |= _PAGE_NX;
        return prot;
    }

    /// <summary>calc_vm_prot_bits and the VM_MAY* bits of do_mmap; VM_ACCOUNT is mmap_region's to add.</summary>
    public static VmFlags FromProt(Prot prot)
    {
        var f = VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE | VmFlags.VM_MAYEXEC;
        if ((prot & Prot.Read) != 0)
            f |= VmFlags.VM_READ;
        if ((prot & Prot.Write) != 0)
            f |= VmFlags.VM_WRITE;
        if ((prot & Prot.Exec) != 0)
            f |= VmFlags.VM_EXEC;
        return f;
    }
}
