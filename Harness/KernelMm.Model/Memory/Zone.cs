namespace KernelMm.Model.Memory;

/// <summary>
/// A memory zone with its free_area[0..MAX_ORDER]. Free lists are doubly linked through
/// the head pages (as page-&gt;lru in the kernel); max-order blocks are linked through a
/// per-chunk array so that a free 4 MiB block needs no page array.
/// </summary>
public sealed class Zone
{
    internal readonly long[] Head = new long[PageFrames.MAX_ORDER + 1];
    internal readonly long[] Tail = new long[PageFrames.MAX_ORDER + 1];

    /// <summary>free_area[order].nr_free: blocks on each free list.</summary>
    public long[] NrFree { get; } = new long[PageFrames.MAX_ORDER + 1];

    public Zone(ZoneType type, long startPfn, long endPfn)
    {
        Type = type;
        StartPfn = startPfn;
        EndPfn = endPfn;
        Array.Fill(Head, -1);
        Array.Fill(Tail, -1);
    }

    public ZoneType Type { get; }

    /// <summary>The name /proc/zoneinfo prints (DMA, DMA32, Normal).</summary>
    public string Name => Type switch
    {
        ZoneType.ZONE_DMA => "DMA",
        ZoneType.ZONE_DMA32 => "DMA32",
        _ => "Normal",
    };

    public long StartPfn { get; }
    public long EndPfn { get; }

    /// <summary>spanned_pages.</summary>
    public long SpannedPages => EndPfn - StartPfn;

    /// <summary>managed_pages: pages handed to the buddy allocator at boot.</summary>
    public long ManagedPages { get; internal set; }

    /// <summary>NR_FREE_PAGES of this zone.</summary>
    public long FreePages { get; internal set; }

    public bool Contains(long pfn) => pfn >= StartPfn && pfn < EndPfn;

    /// <summary>The first block of free_area[order], or -1.</summary>
    public long FirstFree(int order) => Head[order];
}
