using KernelMm.Model.Paging;

namespace KernelMm.Model.Tlb;

/// <summary>
/// One CPU's TLB: translations of 4K, 2M and 1G pages, filled on access and kept until
/// INVLPG, a full flush, or eviction. Capacity is bounded and eviction is FIFO, so the
/// model is deterministic and a check of all entries stays cheap.
/// <para>
/// Entries live in a small open-addressed table keyed by (base, size), four times the
/// capacity so that probes stay short. Fill order is a ring of slot numbers: a dropped
/// entry leaves a hole in the ring (as a hardware FIFO pointer would skip an invalidated
/// way), an entry moved by a removal's backward shift takes its ring position along, and
/// eviction takes the oldest live one without a lookup. A refill of a cached key keeps its
/// place in the order.
/// </para>
/// </summary>
public sealed class CpuTlb
{
    /// <summary>A first-level data TLB (64 entries): enough to observe, cheap to check at every flush point.</summary>
    public const int DefaultCapacity = 64;

    private readonly int _mask;
    private readonly ulong[] _base;
    private readonly PageLevel[] _level; // PG_LEVEL_NONE: empty slot
    private readonly Translation[] _entry;
    // Fill order: _ring[n & _ringMask] is the slot of the n-th fill still pending (-1: dropped);
    // _ringPos[slot] is the fill number of the entry in that slot.
    private readonly int[] _ring;
    private readonly int _ringMask;
    private readonly long[] _ringPos;
    private long _ringHead, _ringTail;
    // Entries per size (by PageLevel): a lookup probes only the sizes the TLB holds (user
    // memory is nearly all 4K, so a miss costs one probe, not three).
    private readonly int[] _levelCount = new int[(int)PageLevel.PG_LEVEL_512G + 1];
    // What the last TLB check found of each slot's entry: coherent under pgd _checkedPgd when
    // the store's write count was _checkedAt (-1: never found coherent since the fill; an
    // older count, one of whose writes since hit _path, means walk it again, and so it stays
    // while the entry is stale), having read the entries _path names. Kept with the entry
    // when a removal moves it.
    private readonly long[] _checkedAt;
    // Occupied slots, a bit each: the check visits the entries without scanning empty slots.
    private readonly ulong[] _occupied;
    private readonly long[] _checkedPgd;
    private readonly ulong[] _path;
    private readonly byte[] _pathLen;

    /// <summary>Entries a checked translation's walk may read and still be remembered (a 4K page reads four).</summary>
    internal const int PathCapacity = 6;

    public CpuTlb(int cpu, int capacity = DefaultCapacity)
    {
        if (capacity <= 0)
            throw new ArgumentOutOfRangeException(nameof(capacity));
        Cpu = cpu;
        Capacity = capacity;
        int slots = 16;
        while (slots < capacity * 4)
            slots <<= 1;
        if (slots > 256)
            throw new ArgumentOutOfRangeException(nameof(capacity), "a TLB of up to 64 entries (its check packs slot numbers in a byte)");
        _mask = slots - 1;
        _base = new ulong[slots];
        _level = new PageLevel[slots];
        _entry = new Translation[slots];
        _ringPos = new long[slots];
        _ring = new int[slots];
        _ringMask = slots - 1;
        _checkedAt = new long[slots];
        _occupied = new ulong[(slots + 63) / 64];
        _checkedPgd = new long[slots];
        _path = new ulong[slots * PathCapacity];
        _pathLen = new byte[slots];
    }

    public int Cpu { get; }

    public int Capacity { get; }

    /// <summary>The pgd frame loaded in CR3 (init_mm's until a task runs here).</summary>
    public long CurrentPgd { get; set; } = -1;

    public int Count { get; private set; }

    /// <summary>
    /// New entries inserted since boot (refills of a cached key not counted): a caller that
    /// missed can tell that nothing was inserted since. Its own count, not the ring's tail,
    /// which a compaction moves back.
    /// </summary>
    internal long Inserts { get; private set; }

    private TlbEntry EntryAt(int s) => new(Cpu, _entry[s], (_entry[s].Flags & PageBits._PAGE_GLOBAL) != 0);

    public IEnumerable<TlbEntry> Entries
    {
        get
        {
            var list = new List<TlbEntry>(Count);
            for (int s = 0; s <= _mask; s++)
                if (_level[s] != PageLevel.PG_LEVEL_NONE)
                    list.Add(EntryAt(s));
            return list;
        }
    }

    /// <summary>
    /// The entries in address order, smaller sizes first at the same address (what a check
    /// reports in), as keys for <see cref="TranslationOf"/>, in a buffer of this TLB's that the
    /// next call reuses: a check runs at every flush point, and sorting copies with LINQ there
    /// was a fifth of the suite's time.
    /// </summary>
    internal ReadOnlySpan<ulong> EntriesByAddress()
    {
        var k = FillKeys();
        k.Sort();
        return k;
    }

    /// <summary>The keys of <see cref="EntriesByAddress"/> in slot order, in the same buffer.</summary>
    internal Span<ulong> Keys() => FillKeys();

    private Span<ulong> FillKeys()
    {
        if (_sortKeys is null || _sortKeys.Length < Count)
            _sortKeys = new ulong[Math.Max(Capacity, Count)];
        var keys = _sortKeys;
        int n = 0;
        // A base is page-aligned: its low 12 bits hold the size (PageLevel, below 8) and the
        // slot (below 256), so sorting the keys sorts by (base, size), which no two entries share.
        for (int w = 0; w < _occupied.Length; w++)
        {
            for (ulong bits = _occupied[w]; bits != 0; bits &= bits - 1)
            {
                int s = w * 64 + System.Numerics.BitOperations.TrailingZeroCount(bits);
                keys[n++] = KeyOf(s);
            }
        }
        return keys.AsSpan(0, n);
    }

    /// <summary>The translation of an entry named by a key of <see cref="EntriesByAddress"/> (valid until the TLB changes).</summary>
    internal ref readonly Translation TranslationOf(ulong key) => ref _entry[SlotOf(key)];

    private ulong[]? _sortKeys;

    /// <summary>The largest page size the TLB holds an entry of (PG_LEVEL_NONE when empty).</summary>
    internal PageLevel LargestLevel
    {
        get
        {
            for (int l = _levelCount.Length - 1; l > 0; l--)
                if (_levelCount[l] != 0)
                    return (PageLevel)l;
            return PageLevel.PG_LEVEL_NONE;
        }
    }

    /// <summary>Whether some entry was walked through table <paramref name="tablePfn"/>.</summary>
    internal bool AnyWalkedThrough(long tablePfn)
    {
        if (Count == 0)
            return false;
        for (int s = 0; s <= _mask; s++)
            if (_level[s] != PageLevel.PG_LEVEL_NONE && _entry[s].TablePfn == tablePfn)
                return true;
        return false;
    }

    private int Home(ulong va, PageLevel level) =>
        (int)(((va >> 12) * 0x9E3779B97F4A7C15UL + (ulong)level) >> 40) & _mask;

    /// <summary>The slot holding (<paramref name="va"/>, <paramref name="level"/>), or -1.</summary>
    private int Find(ulong va, PageLevel level)
    {
        for (int s = Home(va, level); ; s = (s + 1) & _mask)
        {
            var l = _level[s];
            if (l == PageLevel.PG_LEVEL_NONE)
                return -1;
            if (l == level && _base[s] == va)
                return s;
        }
    }

    /// <summary>The slot that holds the entry of (<paramref name="va"/>, <paramref name="level"/>), or -1 (for tests of where a removal moves entries).</summary>
    internal int SlotOf(ulong va, PageLevel level) => Find(va, level);

    /// <summary>The slot where the entry of (<paramref name="va"/>, <paramref name="level"/>) goes when it is free (for tests).</summary>
    internal int HomeOf(ulong va, PageLevel level) => Home(va, level);

    /// <summary>The entry a lookup of <paramref name="va"/> hits, smallest size first (as a split TLB would match any).</summary>
    public TlbEntry? Lookup(ulong va)
    {
        int s = LookupSlot(va);
        return s < 0 ? null : EntryAt(s);
    }

    /// <summary>
    /// A user access's lookup: the cached translation's flags in <paramref name="flags"/>, or
    /// false on a miss (the same match as <see cref="Lookup"/>, without copying the entry).
    /// </summary>
    internal bool TryLookupFlags(ulong va, out ulong flags)
    {
        int s = LookupSlot(va);
        flags = s < 0 ? 0 : _entry[s].Flags;
        return s >= 0;
    }

    private int LookupSlot(ulong va)
    {
        if (Count == 0)
            return -1;
        int s = -1;
        if (_levelCount[(int)PageLevel.PG_LEVEL_4K] != 0)
            s = Find(va & ~(PageShifts.PAGE_SIZE - 1), PageLevel.PG_LEVEL_4K);
        if (s < 0 && _levelCount[(int)PageLevel.PG_LEVEL_2M] != 0)
            s = Find(va & ~(PageShifts.PMD_SIZE - 1), PageLevel.PG_LEVEL_2M);
        if (s < 0 && _levelCount[(int)PageLevel.PG_LEVEL_1G] != 0)
            s = Find(va & ~(PageShifts.PUD_SIZE - 1), PageLevel.PG_LEVEL_1G);
        return s;
    }

    /// <summary>All entries, of any size, that cover <paramref name="va"/>.</summary>
    public IEnumerable<TlbEntry> Covering(ulong va)
    {
        var list = new List<TlbEntry>(3);
        foreach (var level in Levels)
        {
            if (_levelCount[(int)level] == 0)
                continue;
            ulong size = PageShifts.page_level_size(level);
            int s = Find(va & ~(size - 1), level);
            if (s >= 0)
                list.Add(EntryAt(s));
        }
        return list;
    }

    private ulong KeyOf(int s) => _base[s] | (ulong)_level[s] << 8 | (uint)s;

    /// <summary>The slot of an entry named by a key of <see cref="EntriesByAddress"/>.</summary>
    internal static int SlotOf(ulong key) => (int)(key & 0xff);

    /// <summary>
    /// Whether the entry in <paramref name="slot"/> is known to be coherent with the tables
    /// under <paramref name="pgd"/>: a check found it so, and no entry its walk read has
    /// changed since (the store's write log says which did).
    /// </summary>
    internal bool KnownCoherent(int slot, long pgd, PageTableStore tables)
    {
        long at = _checkedAt[slot];
        if (at < 0 || _checkedPgd[slot] != pgd)
            return false;
        if (at == tables.Writes)
            return true;
        if (tables.WrittenSince(at, _path.AsSpan(slot * PathCapacity, _pathLen[slot])))
            return false;
        _checkedAt[slot] = tables.Writes;
        return true;
    }

    /// <summary>A check found the entry in <paramref name="slot"/> coherent under <paramref name="pgd"/>: remember the entries its walk read.</summary>
    internal void NoteCoherent(int slot, long pgd, PageWalker walker)
    {
        ref readonly var t = ref _entry[slot];
        int n = walker.TracePath(pgd, t.VirtualBase, t.Size, _path.AsSpan(slot * PathCapacity, PathCapacity));
        if (n <= 0)
        {
            _checkedAt[slot] = -1;
            return;
        }
        _pathLen[slot] = (byte)n;
        _checkedPgd[slot] = pgd;
        _checkedAt[slot] = walker.Tables.Writes;
    }

    /// <summary>Forgets what checks found (the entries are checked against another store's tables).</summary>
    internal void ForgetChecks() => Array.Fill(_checkedAt, -1);

    private static readonly PageLevel[] Levels = [PageLevel.PG_LEVEL_4K, PageLevel.PG_LEVEL_2M, PageLevel.PG_LEVEL_1G];

    public void Fill(Translation t)
    {
        if ((t.VirtualBase & (PageShifts.page_level_size(t.Level) - 1)) != 0)
            throw new ArgumentException($"a {t.Level} translation of 0x{t.VirtualBase:x} is not aligned to its size", nameof(t));
        Fill(t, mayBeCached: true);
    }

    /// <summary>
    /// A fill; <paramref name="mayBeCached"/> false when a lookup of the same address has
    /// just missed at every size, so the translation's key cannot be cached (no probe for a refill).
    /// </summary>
    internal void Fill(in Translation t, bool mayBeCached)
    {
        int s = mayBeCached && _levelCount[(int)t.Level] != 0 ? Find(t.VirtualBase, t.Level) : -1;
        if (s >= 0)
        {
            _entry[s] = t;
            _checkedAt[s] = -1;
            return;
        }
        while (Count >= Capacity && _ringHead < _ringTail)
        {
            int o = _ring[(int)(_ringHead++ & _ringMask)];
            if (o >= 0)
                RemoveSlot(o);
        }
        if (_ringTail - _ringHead > _ringMask)
            Compact();
        Insert(t);
    }

    private void Insert(in Translation t)
    {
        int s = Home(t.VirtualBase, t.Level);
        while (_level[s] != PageLevel.PG_LEVEL_NONE)
            s = (s + 1) & _mask;
        _base[s] = t.VirtualBase;
        _level[s] = t.Level;
        _entry[s] = t;
        _checkedAt[s] = -1;
        _occupied[s >> 6] |= 1UL << s;
        _ringPos[s] = _ringTail;
        _ring[(int)(_ringTail++ & _ringMask)] = s;
        Inserts++;
        Count++;
        _levelCount[(int)t.Level]++;
    }

    private void Remove(ulong va, PageLevel level)
    {
        if (_levelCount[(int)level] == 0)
            return;
        int s = Find(va, level);
        if (s >= 0)
            RemoveSlot(s);
    }

    /// <summary>Empties a slot and moves later members of its probe run back (linear probing without tombstones).</summary>
    private void RemoveSlot(int s)
    {
        _levelCount[(int)_level[s]]--;
        _level[s] = PageLevel.PG_LEVEL_NONE;
        _occupied[s >> 6] &= ~(1UL << s);
        _entry[s] = default;
        _ring[(int)(_ringPos[s] & _ringMask)] = -1;
        Count--;
        int hole = s;
        for (int j = (s + 1) & _mask; _level[j] != PageLevel.PG_LEVEL_NONE; j = (j + 1) & _mask)
        {
            int home = Home(_base[j], _level[j]);
            // Move j into the hole unless its home lies cyclically in (hole, j].
            bool stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
            if (stays)
                continue;
            _base[hole] = _base[j];
            _level[hole] = _level[j];
            _entry[hole] = _entry[j];
            _ringPos[hole] = _ringPos[j];
            _ring[(int)(_ringPos[hole] & _ringMask)] = hole;
            _checkedAt[hole] = _checkedAt[j];
            _checkedPgd[hole] = _checkedPgd[j];
            _pathLen[hole] = _pathLen[j];
            _path.AsSpan(j * PathCapacity, PathCapacity).CopyTo(_path.AsSpan(hole * PathCapacity, PathCapacity));
            _level[j] = PageLevel.PG_LEVEL_NONE;
            _entry[j] = default;
            _occupied[hole >> 6] |= 1UL << hole;
            _occupied[j >> 6] &= ~(1UL << j);
            hole = j;
        }
    }

    /// <summary>Closes the ring's holes, keeping the fill order (the ring is full of dropped entries).</summary>
    private void Compact()
    {
        long to = _ringHead;
        for (long n = _ringHead; n < _ringTail; n++)
        {
            int s = _ring[(int)(n & _ringMask)];
            if (s < 0)
                continue;
            _ring[(int)(to & _ringMask)] = s;
            _ringPos[s] = to++;
        }
        _ringTail = to;
    }

    /// <summary>INVLPG: drops every entry, of any size, that covers <paramref name="va"/>.</summary>
    public void Invlpg(ulong va)
    {
        if (Count == 0)
            return;
        Remove(va & ~(PageShifts.PAGE_SIZE - 1), PageLevel.PG_LEVEL_4K);
        Remove(va & ~(PageShifts.PMD_SIZE - 1), PageLevel.PG_LEVEL_2M);
        Remove(va & ~(PageShifts.PUD_SIZE - 1), PageLevel.PG_LEVEL_1G);
    }

    /// <summary>A full flush including global entries (flush_tlb_all's __flush_tlb_all).</summary>
    public void FlushAll()
    {
        // Only the occupied slots: a split's flush_tlb_all on every CPU cleared 256 slots each.
        foreach (ulong key in FillKeys())
        {
            int s = SlotOf(key);
            _level[s] = PageLevel.PG_LEVEL_NONE;
            _entry[s] = default;
        }
        Array.Clear(_occupied);
        Array.Clear(_levelCount);
        Count = 0;
        _ringHead = _ringTail;
    }

    /// <summary>A CR3 write: non-global entries go, global ones stay.</summary>
    public void FlushNonGlobal()
    {
        if (Count == 0)
            return;
        for (int s = 0; s <= _mask; s++)
        {
            // A removal can move a later entry into this slot: look at it again.
            while (_level[s] != PageLevel.PG_LEVEL_NONE && (_entry[s].Flags & PageBits._PAGE_GLOBAL) == 0)
                RemoveSlot(s);
        }
    }
}
