namespace KernelMm.Model.Memory;

/// <summary>
/// Blocks by first pfn, each with its order, kept in max-order chunks of the memmap's shape
/// and enumerated in pfn order. What a hash map of the scenario's alloc_pages blocks did,
/// without the hash map's arrays: a scenario that allocates every free page grew one to
/// tens of MiB, re-made at every resize, in every combination (large-object-heap garbage
/// and the gen2 collections it forces).
/// </summary>
public sealed class PfnOrderMap
{
    private const int ChunkShift = PageFrames.ChunkShift;
    private const int ChunkMask = PageFrames.ChunkPages - 1;

    // order + 1 of each block's first pfn (0: none), per chunk, grown as pfns need it.
    private sbyte[]?[] _chunks = [];

    /// <summary>Blocks held.</summary>
    public int Count { get; private set; }

    /// <summary>Holds the block at <paramref name="pfn"/> with <paramref name="order"/> (replacing what was there).</summary>
    public void Set(long pfn, int order)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pfn);
        if ((uint)order > PageFrames.MAX_ORDER)
            throw new ArgumentOutOfRangeException(nameof(order));
        long chunk = pfn >> ChunkShift;
        if (chunk >= _chunks.Length)
            Array.Resize(ref _chunks, (int)Math.Max(chunk + 1, _chunks.Length * 2L));
        var slots = _chunks[chunk] ??= new sbyte[PageFrames.ChunkPages];
        if (slots[pfn & ChunkMask] == 0)
            Count++;
        slots[pfn & ChunkMask] = (sbyte)(order + 1);
    }

    /// <summary>Forgets the block at <paramref name="pfn"/>; false if none was held there.</summary>
    public bool Remove(long pfn)
    {
        long chunk = pfn >> ChunkShift;
        if (pfn < 0 || chunk >= _chunks.Length || _chunks[chunk] is not { } slots || slots[pfn & ChunkMask] == 0)
            return false;
        slots[pfn & ChunkMask] = 0;
        Count--;
        return true;
    }

    /// <summary>The order of the block at <paramref name="pfn"/>, or -1.</summary>
    public int OrderOf(long pfn)
    {
        long chunk = pfn >> ChunkShift;
        if (pfn < 0 || chunk >= _chunks.Length || _chunks[chunk] is not { } slots)
            return -1;
        return slots[pfn & ChunkMask] - 1;
    }

    /// <summary>The blocks in pfn order.</summary>
    public IEnumerable<(long Pfn, int Order)> Blocks()
    {
        for (long chunk = 0; chunk < _chunks.Length; chunk++)
        {
            if (_chunks[chunk] is not { } slots)
                continue;
            for (int i = 0; i < slots.Length; i++)
                if (slots[i] != 0)
                    yield return ((chunk << ChunkShift) + i, slots[i] - 1);
        }
    }
}
