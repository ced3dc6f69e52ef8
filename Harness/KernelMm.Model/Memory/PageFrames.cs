namespace KernelMm.Model.Memory;

/// <summary>
/// The memmap: one <see cref="Page"/> per frame, kept in chunks of one max-order block
/// (1024 frames). A chunk that is a whole free max-order block, as all memory is after
/// boot, has no array at all: its pages read as <see cref="Page.Fresh"/> with the head
/// marked buddy. So a 1 TiB machine costs 16 bytes per frame only where it was used.
/// </summary>
public sealed class PageFrames
{
    /// <summary>MAX_ORDER of the buddy allocator: orders 0..10 (MAX_PAGE_ORDER in 6.x).</summary>
    public const int MAX_ORDER = 10;
    public const int ChunkShift = MAX_ORDER;
    public const int ChunkPages = 1 << ChunkShift;

    private readonly Page[]?[] _chunks;

    public PageFrames(long nrPages)
    {
        if (nrPages <= 0 || nrPages % ChunkPages != 0)
            throw new ArgumentOutOfRangeException(nameof(nrPages), "memory must be a whole number of 4 MiB max-order blocks");
        if (nrPages > int.MaxValue)
            throw new ArgumentOutOfRangeException(nameof(nrPages), "the model carries up to 2^31 frames (8 TiB)");
        MaxPfn = nrPages;
        _chunks = new Page[]?[nrPages >> ChunkShift];
    }

    /// <summary>max_pfn: one past the last frame.</summary>
    public long MaxPfn { get; }

    public bool PfnValid(long pfn) => (ulong)pfn < (ulong)MaxPfn;

    /// <summary>Chunks that have a page array (for the host-memory benchmark and tests).</summary>
    public int MaterializedChunks
    {
        get
        {
            int n = 0;
            foreach (var c in _chunks)
                if (c is not null)
                    n++;
            return n;
        }
    }

    /// <summary>Whether the chunk of <paramref name="pfn"/> is an untouched free max-order block.</summary>
    public bool IsPristine(long pfn) => _chunks[pfn >> ChunkShift] is null;

    /// <summary>The page of a frame, read-only, without materialising its chunk.</summary>
    // Inlined: the fault, zap and free paths read several pages per operation (issue 15's profile: 12% of the model benchmark in the calls).
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public Page Peek(long pfn)
    {
        var chunk = _chunks[pfn >> ChunkShift];
        if (chunk is not null)
            return chunk[pfn & (ChunkPages - 1)];
        var p = Page.Fresh;
        if ((pfn & (ChunkPages - 1)) == 0)
        {
            p.MapCount = MapcountValues.PAGE_BUDDY_MAPCOUNT_VALUE;
            p.Order = MAX_ORDER;
        }
        return p;
    }

    /// <summary>The page of a frame, writable, if its chunk has a page array; a null reference (<see cref="System.Runtime.CompilerServices.Unsafe.IsNullRef{T}(ref readonly T)"/>) for a pristine chunk.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public ref Page MaterializedOrNull(long pfn)
    {
        var chunk = _chunks[pfn >> ChunkShift];
        if (chunk is null)
            return ref System.Runtime.CompilerServices.Unsafe.NullRef<Page>();
        return ref chunk[pfn & (ChunkPages - 1)];
    }

    /// <summary>The page of a frame, writable; materialises its chunk.</summary>
    public ref Page this[long pfn]
    {
        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
        get
        {
            var chunk = _chunks[pfn >> ChunkShift] ?? Materialize(pfn >> ChunkShift);
            return ref chunk[pfn & (ChunkPages - 1)];
        }
    }

    private Page[] Materialize(long chunkIndex)
    {
        var chunk = _spare.Count > 0 ? _spare.Pop() : new Page[ChunkPages];
        chunk.AsSpan().Fill(Page.Fresh);
        chunk[0].MapCount = MapcountValues.PAGE_BUDDY_MAPCOUNT_VALUE;
        chunk[0].Order = MAX_ORDER;
        _chunks[chunkIndex] = chunk;
        return chunk;
    }

    /// <summary>
    /// Drops the page array of a chunk that just became one free max-order block again.
    /// Every page of it is then as <see cref="Page.Fresh"/> (free_pages_prepare reset them).
    /// </summary>
    internal void Dematerialize(long headPfn)
    {
        ref var chunk = ref _chunks[headPfn >> ChunkShift];
        // Kept for the next chunk to materialise: fork and exit storms free a block back to
        // max order and split it again at once, and each time made and dropped 16 KiB.
        if (chunk is not null && _spare.Count < SpareLimit)
            _spare.Push(chunk);
        chunk = null;
    }

    private const int SpareLimit = 64;
    private readonly Stack<Page[]> _spare = new();
}
