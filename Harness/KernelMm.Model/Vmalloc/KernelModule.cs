using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Vmalloc;

/// <summary>
/// A loaded module (5.x, CONFIG_STRICT_MODULE_RWX): its core layout in module space, text
/// made read-only and executable, data left RW+NX. set_memory_ro on the text reaches the
/// direct-map alias of each text page, which is how module loading fractures the direct map.
/// </summary>
public sealed class KernelModule
{
    private readonly Kernel _k;

    internal KernelModule(Kernel k, int id, VmallocArea area, long textPages, long dataPages)
    {
        _k = k;
        Id = id;
        Area = area;
        TextPages = textPages;
        DataPages = dataPages;
    }

    public int Id { get; }
    public VmallocArea Area { get; }
    public long TextPages { get; }
    public long DataPages { get; }
    public bool Loaded { get; private set; } = true;

    public ulong TextAddr => Area.Addr;
    public ulong DataAddr => Area.Addr + (ulong)TextPages * PAGE_SIZE;

    /// <summary>load_module's layout: module_alloc, then module_enable_ro and module_enable_x on the text.</summary>
    internal static KernelModule Load(Kernel k, int id, long textBytes, long dataBytes)
    {
        if (textBytes <= 0 || dataBytes < 0)
            throw new KernelErrnoException("init_module", Errno.EINVAL, $"text {textBytes}, data {dataBytes} bytes");
        long textPages = (long)(KernelLayout.RoundUp((ulong)textBytes, PAGE_SIZE) >> PAGE_SHIFT);
        long dataPages = (long)(KernelLayout.RoundUp((ulong)dataBytes, PAGE_SIZE) >> PAGE_SHIFT);
        var area = k.Vmalloc.ModuleAlloc((textPages + dataPages) * (long)PAGE_SIZE, $"load_module+{id}");
        var m = new KernelModule(k, id, area, textPages, dataPages);
        // module_enable_ro: set_vm_flush_reset_perms(core_layout.base), then the text read-only.
        area.FlushResetPerms = true;
        k.SetMemory.ReadOnly(m.TextAddr, textPages);
        k.SetMemory.Exec(m.TextAddr, textPages);
        return m;
    }

    /// <summary>
    /// free_module: module_memfree, the vfree of a VM_FLUSH_RESET_PERMS area: unmapped, its
    /// direct-map aliases reset, one flush for both (<see cref="VmallocSpace"/>'s vm_remove_mappings).
    /// </summary>
    public void Unload()
    {
        if (!Loaded)
            throw new KernelErrnoException("delete_module", Errno.ENOENT, $"module {Id} is not loaded");
        Loaded = false;
        _k.Vmalloc.Vfree(Area.Addr);
    }
}
