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
}
