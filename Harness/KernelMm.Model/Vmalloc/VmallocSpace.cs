using KernelMm.Model.Memory;
using KernelMm.Model.Paging;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Vmalloc;

/// <summary>
/// vmalloc and module_alloc: lowest-address first fit in [VMALLOC_START, VMALLOC_END) or
/// [MODULES_VADDR, MODULES_END), a guard page after each area, order-0 pages mapped with
/// PAGE_KERNEL 4K PTEs. vfree unmaps, flushes the range and frees the pages at once (the
/// model has no lazy purge), and like the kernel never frees the page tables.
/// </summary>
public sealed class VmallocSpace(Kernel k)
{
    private readonly SortedDictionary<ulong, VmallocArea> _areas = [];
    private int _nextId = 1;

    public IEnumerable<VmallocArea> Areas => _areas.Values;

    /// <summary>vmalloc: <paramref name="bytes"/> rounded up to pages; throws ENOMEM when it cannot.</summary>
    public VmallocArea Vmalloc(long bytes, string caller = "vmalloc") =>
        Alloc("vmalloc", bytes, KernelLayout.VMALLOC_START, KernelLayout.VMALLOC_END + 1, PageOwnerKind.Vmalloc, caller);

    /// <summary>module_alloc: the same, in the module area.</summary>
    public VmallocArea ModuleAlloc(long bytes, string caller = "module_alloc") =>
        Alloc("module_alloc", bytes, KernelLayout.MODULES_VADDR, KernelLayout.MODULES_END, PageOwnerKind.Module, caller);

    /// <summary>A vmalloc-area allocation for a given owner (vzalloc of an LDT, say).</summary>
    internal VmallocArea Alloc(string call, long bytes, PageOwnerKind owner, int ownerId, string caller) =>
        Alloc(call, bytes, KernelLayout.VMALLOC_START, KernelLayout.VMALLOC_END + 1, owner, caller, ownerId);

    private VmallocArea Alloc(string call, long bytes, ulong start, ulong end, PageOwnerKind owner, string caller, int ownerId = 0)
    {
        if (bytes <= 0)
            throw new KernelErrnoException(call, Errno.EINVAL, $"size {bytes}");
        ulong size = KernelLayout.RoundUp((ulong)bytes, PAGE_SIZE);
        ulong addr = FindFree(start, end, size + PAGE_SIZE)
            ?? throw new KernelErrnoException(call, Errno.ENOMEM, "no free virtual range");
        int id = _nextId++;
        long n = (long)(size >> PAGE_SHIFT);
        var pages = new long[n];
        for (long i = 0; i < n; i++)
        {
            long pfn = k.Buddy.AllocPages(0, GfpFlags.GFP_KERNEL, owner, ownerId != 0 ? ownerId : id);
            if (pfn < 0)
            {
                for (long j = 0; j < i; j++)
                    k.Buddy.FreePages(pages[j], 0);
                throw new KernelErrnoException(call, Errno.ENOMEM, "out of pages");
            }
            pages[i] = pfn;
        }
        for (long i = 0; i < n; i++)
        {
            var pte = k.KernelPteAlloc(addr + (ulong)i * PAGE_SIZE);
            k.Walker.Write(pte, pfn_pte(pages[i], k.massage_pgprot(__PAGE_KERNEL)));
        }
        var area = new VmallocArea(id, addr, size, pages, caller);
        _areas.Add(addr, area);
        return area;
    }

    private ulong? FindFree(ulong start, ulong end, ulong sizeWithGuard)
    {
        ulong cursor = start;
        foreach (var a in _areas.Values)
        {
            if (a.Addr < start || a.Addr >= end)
                continue;
            if (a.Addr - cursor >= sizeWithGuard && a.Addr >= cursor)
                return cursor;
            cursor = Math.Max(cursor, a.End + PAGE_SIZE);
        }
        return end - cursor >= sizeWithGuard && end > cursor ? cursor : null;
    }

    /// <summary>The area that starts at <paramref name="addr"/>, or null.</summary>
    public VmallocArea? Find(ulong addr) => _areas.GetValueOrDefault(addr);

    /// <summary>
    /// vfree: clear the PTEs, flush, free the pages. A plain area's range is flushed at once;
    /// a VM_FLUSH_RESET_PERMS area goes through vm_remove_mappings. A bad address is the
    /// kernel's WARN "Trying to vfree() nonexistent vm area".
    /// </summary>
    public void Vfree(ulong addr)
    {
        if (!_areas.Remove(addr, out var area))
        {
            k.Log.Warn("vfree", $"WARNING: Trying to vfree() nonexistent vm area (0x{addr:x16})");
            return;
        }
        VunmapRangeNoflush(area);
        if (area.FlushResetPerms)
        {
            vm_remove_mappings(area);
        }
        else
        {
            k.Tlbs.flush_tlb_kernel_range(area.Addr, area.End);
            k.FlushPoint("vfree", Tlb.FlushScope.KernelHalf);
        }
        foreach (var pfn in area.Pages)
            k.Buddy.FreePages(pfn, 0);
    }

    /// <summary>vunmap_range_noflush: the area's PTEs cleared, nothing flushed.</summary>
    private void VunmapRangeNoflush(VmallocArea area)
    {
        for (long i = 0; i < area.Pages.Length; i++)
        {
            var pte = k.lookup_address(area.Addr + (ulong)i * PAGE_SIZE);
            if (!pte.IsNull && pte.Level == PageLevel.PG_LEVEL_4K)
                k.Walker.Write(pte, 0);
        }
    }

    /// <summary>
    /// vm_remove_mappings of a VM_FLUSH_RESET_PERMS area whose pages are freed (mm/vmalloc.c,
    /// 5.2-5.x): [start, end) spans the pages' direct-map addresses; the aliases are made
    /// invalid (set_direct_map_invalid_noflush: P and RW cleared), then _vm_unmap_aliases(start,
    /// end, flush_dmap) flushes once, then the aliases are set back to default
    /// (set_direct_map_default_noflush: P and RW; GLOBAL, cleared with P, does not come back).
    /// </summary>
    private void vm_remove_mappings(VmallocArea area)
    {
        ulong start = ulong.MaxValue, end = 0;
        foreach (var pfn in area.Pages)
        {
            ulong a = k.DirectMapAddress(pfn);
            start = Math.Min(a, start);
            end = Math.Max(a + PAGE_SIZE, end);
        }
        foreach (var pfn in area.Pages)
            k.Cpa.set_direct_map_noflush(k.DirectMapAddress(pfn), 0, _PAGE_PRESENT | _PAGE_RW);
        _vm_unmap_aliases(start, end, area);
        foreach (var pfn in area.Pages)
            k.Cpa.set_direct_map_noflush(k.DirectMapAddress(pfn), _PAGE_PRESENT | _PAGE_RW, 0);
    }

    /// <summary>
    /// _vm_unmap_aliases: __purge_vmap_area_lazy widens [start, end) to the first and last
    /// lazily freed vmap_area and flushes that with one flush_tlb_kernel_range; from the direct
    /// map to module space that is far above tlb_single_page_flush_ceiling, so flush_tlb_all.
    /// The model frees other areas' ranges at vfree, so the purge list holds the area being
    /// freed (its vmap_area, guard page included); never empty, flush_dmap's own flush of
    /// [start, end) is not reached.
    /// </summary>
    private void _vm_unmap_aliases(ulong start, ulong end, VmallocArea purged)
    {
        start = Math.Min(start, purged.Addr);
        end = Math.Max(end, purged.End + PAGE_SIZE);
        k.Tlbs.flush_tlb_kernel_range(start, end);
        k.FlushPoint("vfree", Tlb.FlushScope.KernelHalf);
    }

    /// <summary>load_module: a module with its text and data; see <see cref="KernelModule"/>.</summary>
    public KernelModule LoadModule(long textBytes, long dataBytes) => KernelModule.Load(k, _nextModule++, textBytes, dataBytes);

    private int _nextModule = 1;
}
