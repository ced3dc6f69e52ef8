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
        if (_sortKeys is null || _sortKeys.Length < Count)
            _sortKeys = new ulong[Math.Max(Capacity, Count)];
        var keys = _sortKeys;
        int n = 0;
        // A base is page-aligned: its low 12 bits hold the size (PageLevel, below 8) and the
        // slot (below 256), so sorting the keys sorts by (base, size), which no two entries share.
        for (int s = 0; s <= _mask; s++)
            if (_level[s] != PageLevel.PG_LEVEL_NONE)
                keys[n++] = _base[s] | (ulong)_level[s] << 8 | (uint)s;
        var k = keys.AsSpan(0, n);
        k.Sort();
        return k;
    }

    /// <summary>The translation of an entry named by a key of <see cref="EntriesByAddress"/> (valid until the TLB changes).</summary>
    internal ref readonly Translation TranslationOf(ulong key) => ref _entry[(int)(key & 0xff)];

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
            _level[j] = PageLevel.PG_LEVEL_NONE;
            _entry[j] = default;
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
        Array.Clear(_level);
        Array.Clear(_entry);
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
