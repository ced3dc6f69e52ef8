using System.Runtime.CompilerServices;

namespace KernelMm.Model.Paging;

/// <summary>
/// The contents of the frames that hold page tables: 512 entries of 64 bits each. Only
/// table frames have contents; the model keeps no data for other pages.
/// <para>
/// Tables are found from their pfn through a directory of 1024-frame chunks (as the memmap
/// is kept), without hashing. A table starts sparse, keeping up to
/// <see cref="SparseCapacity"/> non-none entries in index order in a slab shared by all
/// tables, and becomes a plain 512-entry array once it needs more: the PTE tables of a
/// sparsely touched address space (the 110 GiB VmPTE of the pte-refcount report) cost tens
/// of host bytes each instead of 4 KiB. Every table also knows how many of its entries are
/// not none, so walks skip empty stretches. None of this is visible through
/// <see cref="PageTable"/>: an entry reads as what was last written to it.
/// </para>
/// </summary>
public sealed class PageTableStore
{
    /// <summary>Non-none entries a table keeps before it becomes a full array.</summary>
    public const int SparseCapacity = 6;

    private const int DirShift = 10;
    private const int DirMask = (1 << DirShift) - 1;
    internal const int SegShift = 9;
    internal const int SegMask = (1 << SegShift) - 1;
    private const int DensePoolLimit = 4096;

    /// <summary>Table ids by pfn, per 1024-frame chunk (0: no table).</summary>
    private int[]?[] _dir = [];

    /// <summary>Table slots, 512 per segment; id 0 is never used.</summary>
    private Segment[] _segs = [];
    private int _nextId = 1;
    private readonly Stack<int> _freeIds = new();
    private readonly Stack<ulong[]> _densePool = new();

    /// <summary>Table frames that exist now.</summary>
    public int Count { get; private set; }

    /// <summary>
    /// Changes whenever a table is freed or a present entry changes frame, presence, size
    /// or rights (RW, USER, NX): what a <see cref="PteTableCache"/> checks to stay true.
    /// Filling a none entry and setting ACCESSED or DIRTY leave it alone.
    /// </summary>
    public int Generation { get; private set; }

    private const ulong StructuralBits = PageBits.PTE_PFN_MASK | PageBits._PAGE_PRESENT | PageBits._PAGE_RW | PageBits._PAGE_USER
        | PageBits._PAGE_NX | PageBits._PAGE_PSE;

    /// <summary>
    /// Writes that changed a present entry (any bit) and tables freed, counted since the store
    /// was made: the last <see cref="WriteLogSize"/> of them are kept, by table and index (a
    /// freed table as <see cref="AnyIndex"/>), in a ring. A TLB
    /// check that found a translation coherent when this count was N knows it still is if
    /// none of the entries its walk read is among the writes since N (see <see cref="WrittenSince"/>).
    /// </summary>
    internal long Writes { get; private set; }

    /// <summary>Changes of present entries kept in the ring.</summary>
    internal const int WriteLogSize = 64;

    /// <summary>A path or log key's index for "any entry of the table" (a table freed, or a walk that read many).</summary>
    internal const int AnyIndex = 512;

    private readonly ulong[] _writeLog = new ulong[WriteLogSize];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void NoteOverwrite(int id, int index, ulong old, ulong value)
    {
        if ((old & PageBits._PAGE_PRESENT) == 0 || old == value)
            return;
        if (((old ^ value) & StructuralBits) != 0)
            Generation++;
        LogWrite(id, index);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void LogWrite(int id, int index)
    {
        _writeLog[(int)(Writes & (WriteLogSize - 1))] = PathKey(id, index);
        Writes++;
    }

    /// <summary>The key of entry <paramref name="index"/> (or <see cref="AnyIndex"/>) of table <paramref name="id"/> in a path or the write log.</summary>
    internal static ulong PathKey(int id, int index) => (ulong)(uint)id << 10 | (uint)index;

    /// <summary>
    /// Whether an entry of <paramref name="path"/> (keys of <see cref="PathKey"/>) may have
    /// changed since the write count was <paramref name="since"/>: true when one of the
    /// logged writes since then hit it, or when the ring no longer holds them all.
    /// </summary>
    internal bool WrittenSince(long since, ReadOnlySpan<ulong> path)
    {
        long n = Writes - since;
        if (n == 0)
            return false;
        if (n < 0 || n > WriteLogSize)
            return true;
        for (long w = since; w < Writes; w++)
        {
            ulong key = _writeLog[(int)(w & (WriteLogSize - 1))];
            foreach (ulong p in path)
            {
                if ((p ^ key) >> 10 != 0)
                    continue;
                uint pi = (uint)(p & 1023), wi = (uint)(key & 1023);
                if (pi == wi || pi == AnyIndex || wi == AnyIndex)
                    return true;
            }
        }
        return false;
    }

    /// <summary>Fault injection (<c>MiscountTableEntries</c>): a cleared entry of a full table leaves its count of non-none entries as it was.</summary>
    internal bool MiscountClears { get; set; }

    internal sealed class Segment
    {
        public readonly ulong[]?[] Dense = new ulong[]?[1 << SegShift];
        public readonly ulong[] Values = new ulong[(1 << SegShift) * SparseCapacity];
        public readonly ushort[] Index = new ushort[(1 << SegShift) * SparseCapacity];
        /// <summary>Non-none entries of each table.</summary>
        public readonly ushort[] Used = new ushort[1 << SegShift];
        public readonly int[] Pfn = new int[1 << SegShift]; // frames are below 2^31
        /// <summary>Each table's <see cref="PageWord"/>.</summary>
        public readonly ulong[] Word = new ulong[1 << SegShift];
    }

    /// <summary>The entries of the table in frame <paramref name="pfn"/>.</summary>
    public PageTable this[long pfn]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            int id = IdOf(pfn);
            return id != 0 ? new PageTable(this, id) : throw new InvalidOperationException($"pfn {pfn:x} holds no page table");
        }
    }

    public bool IsTable(long pfn) => IdOf(pfn) != 0;

    public bool TryGet(long pfn, out PageTable entries)
    {
        int id = IdOf(pfn);
        entries = new PageTable(this, id);
        return id != 0;
    }

    /// <summary>Gives frame <paramref name="pfn"/> table contents (zeroed, as GFP_PGTABLE_* pages are) or, for a split, the caller fills them.</summary>
    public PageTable Create(long pfn)
    {
        if (pfn < 0)
            throw new ArgumentOutOfRangeException(nameof(pfn));
        long chunk = pfn >> DirShift;
        if (chunk >= _dir.Length)
            Array.Resize(ref _dir, (int)Math.Max(chunk + 1, _dir.Length * 2L));
        var ids = _dir[chunk] ??= new int[1 << DirShift];
        if (ids[pfn & DirMask] != 0)
            throw new ArgumentException($"pfn {pfn:x} holds a page table already", nameof(pfn));
        int id = _freeIds.Count > 0 ? _freeIds.Pop() : NewId();
        var seg = _segs[id >> SegShift];
        int off = id & SegMask;
        seg.Used[off] = 0;
        seg.Dense[off] = null;
        seg.Pfn[off] = (int)pfn;
        seg.Word[off] = 0;
        ids[pfn & DirMask] = id;
        Count++;
        return new PageTable(this, id);
    }

    private int NewId()
    {
        int id = _nextId++;
        if ((id >> SegShift) >= _segs.Length)
        {
            Array.Resize(ref _segs, Math.Max(4, _segs.Length * 2));
        }
        _segs[id >> SegShift] ??= new Segment();
        return id;
    }

    /// <summary>The frame stops being a table (its page goes back to the allocator).</summary>
    public void Remove(long pfn)
    {
        long chunk = pfn >> DirShift;
        if ((ulong)chunk >= (ulong)_dir.Length || _dir[chunk] is not { } ids || ids[pfn & DirMask] == 0)
            return;
        int id = ids[pfn & DirMask];
        ids[pfn & DirMask] = 0;
        Generation++;
        LogWrite(id, AnyIndex);
        var seg = _segs[id >> SegShift];
        int off = id & SegMask;
        if (seg.Dense[off] is { } dense && _densePool.Count < DensePoolLimit)
        {
            Array.Clear(dense);
            _densePool.Push(dense);
        }
        seg.Dense[off] = null;
        seg.Used[off] = 0;
        _freeIds.Push(id);
        Count--;
    }

    /// <summary>
    /// A word of the table frame's struct page that the model itself never reads, kept with
    /// the table: zero when the table is made, gone when it is removed. It is what a patch
    /// keeps per table, as pte-refcount's RFC 4/7 adds <c>unsigned long pte_refcount; /* only
    /// for PTE page */</c> to struct page. A null reference when <paramref name="pfn"/> holds no table.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref ulong PageWord(long pfn)
    {
        int id = IdOf(pfn);
        if (id == 0)
            return ref Unsafe.NullRef<ulong>();
        return ref _segs[id >> SegShift].Word[id & SegMask];
    }

    /// <summary>All table frames, in pfn order.</summary>
    public IEnumerable<long> Frames()
    {
        for (long chunk = 0; chunk < _dir.Length; chunk++)
        {
            if (_dir[chunk] is not { } ids)
                continue;
            for (int i = 0; i < ids.Length; i++)
                if (ids[i] != 0)
                    yield return (chunk << DirShift) + i;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int IdOf(long pfn)
    {
        long chunk = pfn >> DirShift;
        if ((ulong)chunk >= (ulong)_dir.Length)
            return 0;
        var ids = _dir[chunk];
        return ids is null ? 0 : ids[pfn & DirMask];
    }

    internal long PfnOf(int id) => _segs[id >> SegShift].Pfn[id & SegMask];

    internal int UsedOf(int id) => _segs[id >> SegShift].Used[id & SegMask];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ulong Read(int id, int index)
    {
        if ((uint)index >= PageShifts.PTRS_PER_TABLE)
            throw new IndexOutOfRangeException();
        var seg = _segs[id >> SegShift];
        int off = id & SegMask;
        if (seg.Dense[off] is { } dense)
            return dense[index];
        int n = seg.Used[off];
        int b = off * SparseCapacity;
        var idx = seg.Index;
        for (int j = 0; j < n; j++)
        {
            int x = idx[b + j];
            if (x == index)
                return seg.Values[b + j];
            if (x > index)
                break;
        }
        return 0;
    }

    internal void Write(int id, int index, ulong value)
    {
        if ((uint)index >= PageShifts.PTRS_PER_TABLE)
            throw new IndexOutOfRangeException();
        var seg = _segs[id >> SegShift];
        int off = id & SegMask;
        if (seg.Dense[off] is { } dense)
        {
            ulong old = dense[index];
            dense[index] = value;
            NoteOverwrite(id, index, old, value);
            if (old == 0)
            {
                if (value != 0)
                    seg.Used[off]++;
            }
            else if (value == 0 && !MiscountClears)
            {
                seg.Used[off]--;
            }
            return;
        }
        int n = seg.Used[off];
        int b = off * SparseCapacity;
        var idx = seg.Index;
        var vals = seg.Values;
        int j = 0;
        while (j < n && idx[b + j] < index)
            j++;
        if (j < n && idx[b + j] == index)
        {
            NoteOverwrite(id, index, vals[b + j], value);
            if (value != 0)
            {
                vals[b + j] = value;
                return;
            }
            // The entry becomes none: close the gap.
            for (int m = j; m < n - 1; m++)
            {
                idx[b + m] = idx[b + m + 1];
                vals[b + m] = vals[b + m + 1];
            }
            seg.Used[off] = (ushort)(n - 1);
            return;
        }
        if (value == 0)
            return;
        if (n < SparseCapacity)
        {
            for (int m = n; m > j; m--)
            {
                idx[b + m] = idx[b + m - 1];
                vals[b + m] = vals[b + m - 1];
            }
            idx[b + j] = (ushort)index;
            vals[b + j] = value;
            seg.Used[off] = (ushort)(n + 1);
            return;
        }
        // Full: the table becomes a plain array.
        var full = _densePool.Count > 0 ? _densePool.Pop() : new ulong[PageShifts.PTRS_PER_TABLE];
        for (int m = 0; m < n; m++)
            full[idx[b + m]] = vals[b + m];
        full[index] = value;
        seg.Dense[off] = full;
        seg.Used[off] = (ushort)(n + 1);
    }

    /// <summary>
    /// The zap's step: the first index in [<paramref name="from"/>, <paramref name="last"/>]
    /// whose entry is not none, cleared (its value in <paramref name="old"/>); 512 when there
    /// is none. The same as <see cref="NextUsed"/> then <see cref="GetAndClear"/>, in one lookup.
    /// </summary>
    internal int ClearNextUsed(int id, int from, int last, out ulong old)
    {
        var seg = _segs[id >> SegShift];
        int off = id & SegMask;
        if (seg.Dense[off] is { } dense && (uint)last < PageShifts.PTRS_PER_TABLE && from >= 0)
        {
            for (int i = from; i <= last; i++)
            {
                old = dense[i];
                if (old == 0)
                    continue;
                dense[i] = 0;
                NoteOverwrite(id, i, old, 0);
                if (!MiscountClears)
                    seg.Used[off]--;
                return i;
            }
            old = 0;
            return PageShifts.PTRS_PER_TABLE;
        }
        int next = NextUsed(id, from);
        if (next > last)
        {
            old = 0;
            return PageShifts.PTRS_PER_TABLE;
        }
        old = GetAndClear(id, next);
        return next;
    }

    /// <summary>
    /// ptep_get_and_clear: the entry's value, and the entry none; the same as a read then a
    /// write of 0, in one lookup (the zap path's step for every mapped page).
    /// </summary>
    internal ulong GetAndClear(int id, int index)
    {
        if ((uint)index >= PageShifts.PTRS_PER_TABLE)
            throw new IndexOutOfRangeException();
        var seg = _segs[id >> SegShift];
        int off = id & SegMask;
        if (seg.Dense[off] is not { } dense)
        {
            ulong v = Read(id, index);
            if (v != 0)
                Write(id, index, 0);
            return v;
        }
        ulong old = dense[index];
        if (old == 0)
            return 0;
        dense[index] = 0;
        NoteOverwrite(id, index, old, 0);
        if (!MiscountClears)
            seg.Used[off]--;
        return old;
    }

    /// <summary>
    /// Writes all 512 entries of a table whose entries are all none (a split's new table):
    /// the same as writing them one by one, without the sparse steps on the way to a full array.
    /// </summary>
    internal void WriteAll(int id, ReadOnlySpan<ulong> values)
    {
        if (values.Length != PageShifts.PTRS_PER_TABLE)
            throw new ArgumentException("a table has 512 entries", nameof(values));
        values.CopyTo(BeginWriteAll(id));
        EndWriteAll(id);
    }

    /// <summary>
    /// The first half of writing all 512 entries of an empty table in place (a split's new
    /// table): the full array to fill, zeroed. <see cref="EndWriteAll"/> then counts what was
    /// written and keeps a table of few entries sparse, so the result is what
    /// <see cref="WriteAll"/> of the same values gives, without a copy through the stack.
    /// </summary>
    internal Span<ulong> BeginWriteAll(int id)
    {
        var seg = _segs[id >> SegShift];
        int off = id & SegMask;
        if (seg.Used[off] != 0)
            throw new InvalidOperationException($"table pfn {seg.Pfn[off]:x} is not empty");
        var full = seg.Dense[off] ?? (_densePool.Count > 0 ? _densePool.Pop() : new ulong[PageShifts.PTRS_PER_TABLE]);
        seg.Dense[off] = full;
        return full;
    }

    /// <summary>The second half of <see cref="BeginWriteAll"/>: the count of non-none entries, and a table of few entries back to sparse.</summary>
    internal void EndWriteAll(int id)
    {
        var seg = _segs[id >> SegShift];
        int off = id & SegMask;
        var full = seg.Dense[off] ?? throw new InvalidOperationException("EndWriteAll without BeginWriteAll");
        int used = PageShifts.PTRS_PER_TABLE - full.AsSpan().Count(0UL);
        if (used > SparseCapacity)
        {
            seg.Used[off] = (ushort)used;
            return;
        }
        seg.Dense[off] = null;
        seg.Used[off] = 0;
        for (int i = 0; i < full.Length; i++)
            if (full[i] != 0)
                Write(id, i, full[i]);
        if (_densePool.Count < DensePoolLimit)
        {
            Array.Clear(full);
            _densePool.Push(full);
        }
    }

    /// <summary>The entries of a full table as they are stored, for a walk that reads all 512; false for a sparse table.</summary>
    internal bool TryGetDense(int id, out ReadOnlySpan<ulong> entries)
    {
        var dense = _segs[id >> SegShift].Dense[id & SegMask];
        entries = dense;
        return dense is not null;
    }

    /// <summary>The entries that are not none, counted from the stored values (not the kept count <see cref="UsedOf"/>).</summary>
    internal int CountNonNone(int id)
    {
        var seg = _segs[id >> SegShift];
        int off = id & SegMask;
        if (seg.Dense[off] is { } dense)
            return PageShifts.PTRS_PER_TABLE - dense.AsSpan().Count(0UL);
        // A sparse table keeps its first Used slab slots, each a stored value.
        int n = seg.Used[off];
        return n - seg.Values.AsSpan(off * SparseCapacity, n).Count(0UL);
    }

    /// <summary>The first index at or after <paramref name="from"/> whose entry is not none, or 512.</summary>
    internal int NextUsed(int id, int from)
    {
        var seg = _segs[id >> SegShift];
        int off = id & SegMask;
        if (from < 0)
            from = 0;
        if (seg.Used[off] == 0 || from >= PageShifts.PTRS_PER_TABLE)
            return PageShifts.PTRS_PER_TABLE;
        if (seg.Dense[off] is { } dense)
        {
            // A zap or copy of a populated table asks for the next entry, which is mostly the one after.
            if (dense[from] != 0)
                return from;
            int i = dense.AsSpan(from).IndexOfAnyExcept(0UL);
            return i < 0 ? PageShifts.PTRS_PER_TABLE : from + i;
        }
        int n = seg.Used[off];
        int b = off * SparseCapacity;
        for (int j = 0; j < n; j++)
        {
            int x = seg.Index[b + j];
            if (x >= from)
                return x;
        }
        return PageShifts.PTRS_PER_TABLE;
    }
}

/// <summary>
/// One page table's entries (the kernel's <c>pte_t *</c> to its first entry): read and
/// written by index like the 512-entry array it models. A light handle into
/// <see cref="PageTableStore"/>, valid while the frame holds the table.
/// </summary>
public readonly struct PageTable
{
    private readonly PageTableStore _store;
    private readonly int _id;

    internal PageTable(PageTableStore store, int id)
    {
        _store = store;
        _id = id;
    }

    /// <summary>PTRS_PER_PTE (and PMD, PUD, PGD): 512.</summary>
    public int Length => PageShifts.PTRS_PER_TABLE;

    /// <summary>The frame that holds the table.</summary>
    public long Pfn => _store.PfnOf(_id);

    /// <summary>Entries that are not none.</summary>
    public int UsedEntries => _store.UsedOf(_id);

    /// <summary>Entries that are not none, counted from what the table holds (a check of <see cref="UsedEntries"/>).</summary>
    public int CountNonNone() => _store.CountNonNone(_id);

    public ulong this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _store.Read(_id, index);
        set => _store.Write(_id, index, value);
    }

    /// <summary>The first index at or after <paramref name="from"/> whose entry is not none, or 512: walks skip the none entries with it.</summary>
    public int NextUsed(int from) => _store.NextUsed(_id, from);

    /// <summary>ptep_get_and_clear: the entry's value, and the entry none.</summary>
    public ulong GetAndClear(int index) => _store.GetAndClear(_id, index);

    /// <summary>The first entry in [<paramref name="from"/>, <paramref name="last"/>] that is not none, cleared; 512 when there is none.</summary>
    public int ClearNextUsed(int from, int last, out ulong old) => _store.ClearNextUsed(_id, from, last, out old);

    /// <summary>Writes all 512 entries of this table, whose entries are all none (a split fills its new table so).</summary>
    public void WriteAll(ReadOnlySpan<ulong> values) => _store.WriteAll(_id, values);

    /// <summary>Writing all 512 entries of this empty table in place: fill the span, then <see cref="EndWriteAll"/> (nothing else may touch the table in between).</summary>
    internal Span<ulong> BeginWriteAll() => _store.BeginWriteAll(_id);

    /// <summary>The end of <see cref="BeginWriteAll"/>.</summary>
    internal void EndWriteAll() => _store.EndWriteAll(_id);

    /// <summary>All 512 entries in place, when the table is kept full (read-only: valid until the table changes).</summary>
    internal bool TryGetDense(out ReadOnlySpan<ulong> entries) => _store.TryGetDense(_id, out entries);

    /// <summary>Copies <paramref name="count"/> entries of <paramref name="source"/> from <paramref name="start"/> into the same slots here (as pgd_ctor's memcpy).</summary>
    public void CopyFrom(PageTable source, int start, int count)
    {
        int end = start + count;
        if (start >= 0 && end <= PageShifts.PTRS_PER_TABLE && NextUsed(start) >= end)
        {
            // Into none entries (a new pgd's kernel half): only the source's used entries change anything.
            for (int i = source.NextUsed(start); i < end; i = source.NextUsed(i + 1))
                this[i] = source[i];
            return;
        }
        for (int i = start; i < end; i++)
            this[i] = source[i];
    }

    /// <summary>All 512 entries in index order.</summary>
    public Enumerator GetEnumerator() => new(this);

    public struct Enumerator(PageTable table)
    {
        private int _i = -1;

        public readonly ulong Current => table[_i];

        public bool MoveNext() => ++_i < PageShifts.PTRS_PER_TABLE;
    }
}
