using KernelMm.Model.Memory;
using KernelMm.Model.Paging;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Vmalloc;

/// <summary>
/// vmalloc and module_alloc as mm/vmalloc.c (5.x) has them: lowest-address first fit in
/// [VMALLOC_START, VMALLOC_END) or [MODULES_VADDR, MODULES_END) (alloc_vmap_area over the
/// free tree), a guard page after each area, order-0 pages mapped with PAGE_KERNEL 4K PTEs.
/// vfree unmaps at once (unmap_kernel_range_noflush) and frees the pages, but the virtual
/// range goes on the lazy purge list (free_vmap_area_noflush) unflushed and out of the free
/// tree, so later areas go above it; only when more than lazy_max_pages are lazily freed
/// (or vm_unmap_aliases, or an allocation that finds no room) does __purge_vmap_area_lazy
/// flush their span and give the ranges back. Like the kernel it never frees the page
/// tables: areas that climb into fresh 2M regions make new PTE tables (and, with KAISER, new
/// shadow tables for what is user-mapped there).
/// </summary>
public sealed class VmallocSpace(Kernel k)
{
    private readonly SortedDictionary<ulong, VmallocArea> _areas = [];
    // vmap_purge_list: each lazily freed vmap_area's [va_start, va_end) (the guard page included).
    private readonly SortedDictionary<ulong, ulong> _lazy = [];
    private int _nextId = 1;

    public IEnumerable<VmallocArea> Areas => _areas.Values;

    /// <summary>vmap_lazy_nr: pages of the areas on the purge list.</summary>
    public long VmapLazyNr { get; private set; }

    /// <summary>The ranges freed but not yet purged (their translations may still be cached: the kernel's lazy TLB flush).</summary>
    public IEnumerable<(ulong Start, ulong End)> LazilyFreed => _lazy.Select(x => (x.Key, x.Value));

    /// <summary>lazy_max_pages: 32 MiB of pages times fls(num_online_cpus()).</summary>
    public long LazyMaxPages => (32L << 20 >> PAGE_SHIFT) * (32 - System.Numerics.BitOperations.LeadingZeroCount((uint)k.Options.Cpus));

    /// <summary>Whether <paramref name="va"/> is in a range freed but not yet purged: a stale translation there is the kernel's design, not a missing flush.</summary>
    public bool IsLazilyFreed(ulong va)
    {
        // Asked for every TLB entry at every flush point check: a sorted array, binary
        // searched, instead of an enumeration of the tree (which allocates a stack each time).
        if (_lazy.Count == 0)
            return false;
        _lazyStarts ??= [.. _lazy.Keys];
        _lazyEnds ??= [.. _lazy.Values];
        int i = Array.BinarySearch(_lazyStarts, va);
        if (i < 0)
            i = ~i - 1; // the last range starting below va
        return i >= 0 && va < _lazyEnds[i];
    }

    /// <summary><see cref="_lazy"/>'s starts and ends as sorted arrays, rebuilt after the list changes.</summary>
    private ulong[]? _lazyStarts, _lazyEnds;

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
        ulong? found = FindFree(start, end, size + PAGE_SIZE);
        // alloc_vmap_area's overflow path: purge the lazy areas once and retry.
        if (found is null && PurgeVmapAreaLazy(ulong.MaxValue, 0))
            found = FindFree(start, end, size + PAGE_SIZE);
        ulong addr = found ?? throw new KernelErrnoException(call, Errno.ENOMEM, "no free virtual range");
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

    /// <summary>The lowest gap of [start, end) that fits: neither a busy area nor a lazily freed one is free.</summary>
    private ulong? FindFree(ulong start, ulong end, ulong sizeWithGuard)
    {
        ulong cursor = start;
        foreach (var (aStart, aEnd) in Occupied())
        {
            if (aStart < start || aStart >= end)
                continue;
            if (aStart >= cursor && aStart - cursor >= sizeWithGuard)
                return cursor;
            cursor = Math.Max(cursor, aEnd);
        }
        return end > cursor && end - cursor >= sizeWithGuard ? cursor : null;
    }

    /// <summary>Busy areas (with their guard page) and lazily freed ranges, by address.</summary>
    private IEnumerable<(ulong Start, ulong End)> Occupied()
    {
        using var busy = _areas.Values.GetEnumerator();
        using var lazy = _lazy.GetEnumerator();
        bool b = busy.MoveNext(), l = lazy.MoveNext();
        while (b || l)
        {
            if (b && (!l || busy.Current.Addr < lazy.Current.Key))
            {
                yield return (busy.Current.Addr, busy.Current.End + PAGE_SIZE);
                b = busy.MoveNext();
            }
            else
            {
                yield return (lazy.Current.Key, lazy.Current.Value);
                l = lazy.MoveNext();
            }
        }
    }

    /// <summary>The area that starts at <paramref name="addr"/>, or null.</summary>
    public VmallocArea? Find(ulong addr) => _areas.GetValueOrDefault(addr);

    /// <summary>vfree: unmap, put the range on the purge list, free the pages. A bad address is the kernel's WARN "Trying to vfree() nonexistent vm area".</summary>
    public void Vfree(ulong addr) => Vfree(addr, null);

    /// <summary>
    /// __vunmap: remove_vm_area (unmap_kernel_range_noflush, then free_vmap_area_noflush),
    /// then, for a VM_FLUSH_RESET_PERMS area, <paramref name="resetPerms"/> (vm_remove_mappings'
    /// direct-map reset around <see cref="VmUnmapAliases"/>), then the pages go back.
    /// </summary>
    internal void Vfree(ulong addr, Action<VmallocArea>? resetPerms)
    {
        if (!_areas.Remove(addr, out var area))
        {
            k.Log.Warn("vfree", $"WARNING: Trying to vfree() nonexistent vm area (0x{addr:x16})");
            return;
        }
        for (long i = 0; i < area.Pages.Length; i++)
        {
            var pte = k.lookup_address(area.Addr + (ulong)i * PAGE_SIZE);
            if (!pte.IsNull && pte.Level == PageLevel.PG_LEVEL_4K)
                k.Walker.Write(pte, 0);
        }
        FreeVmapAreaNoflush(area.Addr, area.End + PAGE_SIZE);
        resetPerms?.Invoke(area);
        foreach (var pfn in area.Pages)
            k.Buddy.FreePages(pfn, 0);
    }

    /// <summary>free_vmap_area_noflush: onto vmap_purge_list, unflushed; past lazy_max_pages, try_purge_vmap_area_lazy.</summary>
    private void FreeVmapAreaNoflush(ulong start, ulong end)
    {
        _lazy.Add(start, end);
        _lazyStarts = _lazyEnds = null;
        VmapLazyNr += (long)((end - start) >> PAGE_SHIFT);
        if (VmapLazyNr > LazyMaxPages)
            PurgeVmapAreaLazy(ulong.MaxValue, 0);
    }

    /// <summary>
    /// __purge_vmap_area_lazy: nothing to do (false) with an empty list; else one
    /// flush_tlb_kernel_range over the span of [start, end) and every lazy area (a full
    /// flush past 33 pages), then the ranges go back to the free tree.
    /// </summary>
    private bool PurgeVmapAreaLazy(ulong start, ulong end)
    {
        if (_lazy.Count == 0)
            return false;
        foreach (var (s, e) in _lazy)
        {
            start = Math.Min(start, s);
            end = Math.Max(end, e);
        }
        k.Tlbs.flush_tlb_kernel_range(start, end);
        _lazy.Clear();
        _lazyStarts = _lazyEnds = null;
        VmapLazyNr = 0;
        k.FlushPoint("__purge_vmap_area_lazy", Tlb.FlushScope.KernelHalf);
        return true;
    }

    /// <summary>
    /// _vm_unmap_aliases (vm_unmap_aliases with <paramref name="flush"/> false, as
    /// change_page_attr_set_clr calls it): purge the lazy areas with [start, end) in the
    /// flush; with <paramref name="flush"/> and nothing to purge, flush [start, end) alone.
    /// </summary>
    internal void VmUnmapAliases(ulong start = ulong.MaxValue, ulong end = 0, bool flush = false)
    {
        if (!PurgeVmapAreaLazy(start, end) && flush)
        {
            k.Tlbs.flush_tlb_kernel_range(start, end);
            k.FlushPoint("vm_unmap_aliases", Tlb.FlushScope.KernelHalf);
        }
    }

    /// <summary>load_module: a module with its text and data; see <see cref="KernelModule"/>.</summary>
    public KernelModule LoadModule(long textBytes, long dataBytes) => KernelModule.Load(k, _nextModule++, textBytes, dataBytes);

    private int _nextModule = 1;
}
