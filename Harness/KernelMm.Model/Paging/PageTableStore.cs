namespace KernelMm.Model.Paging;

/// <summary>
/// The contents of the frames that hold page tables: 512 entries of 64 bits each. Only
/// table frames have contents; the model keeps no data for other pages.
/// </summary>
public sealed class PageTableStore
{
    private readonly Dictionary<long, ulong[]> _tables = [];

    /// <summary>Table frames that exist now.</summary>
    public int Count => _tables.Count;

    /// <summary>The entries of the table in frame <paramref name="pfn"/>.</summary>
    public ulong[] this[long pfn] => _tables.TryGetValue(pfn, out var t)
        ? t
        : throw new InvalidOperationException($"pfn {pfn:x} holds no page table");

    public bool IsTable(long pfn) => _tables.ContainsKey(pfn);

    public bool TryGet(long pfn, out ulong[] entries) => _tables.TryGetValue(pfn, out entries!);

    /// <summary>Gives frame <paramref name="pfn"/> table contents (zeroed, as GFP_PGTABLE_* pages are) or, for a split, the caller fills them.</summary>
    public ulong[] Create(long pfn)
    {
        var t = new ulong[PageShifts.PTRS_PER_TABLE];
        _tables.Add(pfn, t);
        return t;
    }

    /// <summary>The frame stops being a table (its page goes back to the allocator).</summary>
    public void Remove(long pfn) => _tables.Remove(pfn);

    /// <summary>All table frames, in pfn order.</summary>
    public IEnumerable<long> Frames() => _tables.Keys.Order();
}
