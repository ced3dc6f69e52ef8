using static KernelMm.Model.Paging.PageBits;
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
        k.SetMemory.ReadOnly(m.TextAddr, textPages);
        k.SetMemory.Exec(m.TextAddr, textPages);
        return m;
    }

    /// <summary>
    /// free_module: vfree of a VM_FLUSH_RESET_PERMS area (vm_remove_mappings): unmap it (the
    /// range goes on the lazy purge list), set each page's direct-map alias invalid
    /// (set_direct_map_invalid_noflush: clear P and RW), _vm_unmap_aliases over the aliases'
    /// range (which purges every lazy area, this one too, in one flush), then set them back
    /// to default (set_direct_map_default_noflush: set P and RW). GLOBAL, cleared with P,
    /// does not come back.
    /// </summary>
    public void Unload()
    {
        if (!Loaded)
            throw new KernelErrnoException("delete_module", Errno.ENOENT, $"module {Id} is not loaded");
        Loaded = false;
        var pages = Area.Pages;
        ulong start = ulong.MaxValue, end = 0;
        foreach (var pfn in pages)
        {
            ulong a = _k.DirectMapAddress(pfn);
            start = Math.Min(start, a);
            end = Math.Max(end, a + PAGE_SIZE);
        }
        _k.Vmalloc.Vfree(Area.Addr, area =>
        {
            foreach (var p in area.Pages)
                _k.Cpa.set_direct_map_noflush(_k.DirectMapAddress(p), 0, _PAGE_PRESENT | _PAGE_RW);
            _k.Vmalloc.VmUnmapAliases(start, end, flush: true);
            foreach (var p in area.Pages)
                _k.Cpa.set_direct_map_noflush(_k.DirectMapAddress(p), _PAGE_PRESENT | _PAGE_RW, 0);
        });
    }
}
