namespace KernelMm.Model.Vmalloc;

/// <summary>A vm_struct: a virtual range (with its guard page) and the pages backing it.</summary>
public sealed class VmallocArea(int id, ulong addr, ulong size, long[] pages, string caller)
{
    public int Id { get; } = id;
    /// <summary>The first mapped address.</summary>
    public ulong Addr { get; } = addr;
    /// <summary>The mapped size in bytes (without the guard page).</summary>
    public ulong Size { get; } = size;
    public long[] Pages { get; } = pages;
    /// <summary>Who allocated it (vmalloc, module_alloc...), as /proc/vmallocinfo names the caller.</summary>
    public string Caller { get; } = caller;
    public ulong End => Addr + Size;

    /// <summary>
    /// VM_FLUSH_RESET_PERMS (set_vm_flush_reset_perms, 5.2+): on vfree its direct-map aliases
    /// are reset to default and the area and the aliases flushed together (vm_remove_mappings).
    /// </summary>
    public bool FlushResetPerms { get; internal set; }
}
