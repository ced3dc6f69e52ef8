using KernelMm.Model.Paging;

namespace KernelMm.Model.Tlb;

/// <summary>
/// One CPU's TLB: translations of 4K, 2M and 1G pages, filled on access and kept until
/// INVLPG, a full flush, or eviction. Capacity is bounded and eviction is FIFO, so the
/// model is deterministic and a check of all entries stays cheap.
/// <para>
/// Entries live in a small open-addressed table keyed by (base, size), four times the
/// capacity so that probes stay short; fill order is a queue of (key, fill number) whose
/// items go stale when their entry is dropped, as a hardware FIFO pointer would skip an
/// invalidated way. A refill of a cached key keeps its place in the order.
/// </para>
/// </summary>
public sealed class CpuTlb
{
    /// <summary>A first-level data TLB (64 entries): enough to observe, cheap to check at every flush point.</summary>
    public const int DefaultCapacity = 64;

    private readonly int _mask;
    private readonly ulong[] _base;
    private readonly PageLevel[] _level; // PG_LEVEL_NONE: empty slot
    private readonly TlbEntry[] _entry;
    private readonly long[] _seq;
    // Fill order for FIFO eviction; an item whose fill number is not the entry's is stale.
    private readonly Queue<(ulong Base, PageLevel Level, long Seq)> _fifo = new();
    private long _nextSeq;

    public CpuTlb(int cpu, int capacity = DefaultCapacity)
    {
        Cpu = cpu;
        Capacity = capacity;
        int slots = 16;
        while (slots < capacity * 4)
            slots <<= 1;
        _mask = slots - 1;
        _base = new ulong[slots];
        _level = new PageLevel[slots];
        _entry = new TlbEntry[slots];
        _seq = new long[slots];
    }

    public int Cpu { get; }

    public int Capacity { get; }

    /// <summary>The pgd frame loaded in CR3 (init_mm's until a task runs here).</summary>
    public long CurrentPgd { get; set; } = -1;

    public int Count { get; private set; }

    public IEnumerable<TlbEntry> Entries
    {
        get
        {
            var list = new List<TlbEntry>(Count);
            for (int s = 0; s <= _mask; s++)
                if (_level[s] != PageLevel.PG_LEVEL_NONE)
                    list.Add(_entry[s]);
            return list;
        }
    }

    /// <summary>Whether some entry was walked through table <paramref name="tablePfn"/>.</summary>
    internal bool AnyWalkedThrough(long tablePfn)
    {
        if (Count == 0)
            return false;
        for (int s = 0; s <= _mask; s++)
            if (_level[s] != PageLevel.PG_LEVEL_NONE && _entry[s].Translation.TablePfn == tablePfn)
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
        if (Count == 0)
            return null;
        int s = Find(va & ~(PageShifts.PAGE_SIZE - 1), PageLevel.PG_LEVEL_4K);
        if (s < 0)
            s = Find(va & ~(PageShifts.PMD_SIZE - 1), PageLevel.PG_LEVEL_2M);
        if (s < 0)
            s = Find(va & ~(PageShifts.PUD_SIZE - 1), PageLevel.PG_LEVEL_1G);
        return s < 0 ? null : _entry[s];
    }

    /// <summary>All entries, of any size, that cover <paramref name="va"/>.</summary>
    public IEnumerable<TlbEntry> Covering(ulong va)
    {
        var list = new List<TlbEntry>(3);
        foreach (var level in Levels)
        {
            ulong size = PageShifts.page_level_size(level);
            int s = Find(va & ~(size - 1), level);
            if (s >= 0)
                list.Add(_entry[s]);
        }
        return list;
    }

    private static readonly PageLevel[] Levels = [PageLevel.PG_LEVEL_4K, PageLevel.PG_LEVEL_2M, PageLevel.PG_LEVEL_1G];

    public void Fill(Translation t)
    {
        var entry = new TlbEntry(Cpu, t, (t.Flags & PageBits._PAGE_GLOBAL) != 0);
        int s = Find(t.VirtualBase, t.Level);
        if (s >= 0)
        {
            _entry[s] = entry;
            return;
        }
        while (Count >= Capacity && _fifo.TryDequeue(out var old))
        {
            int o = Find(old.Base, old.Level);
            if (o >= 0 && _seq[o] == old.Seq)
                RemoveSlot(o);
        }
        Insert(t.VirtualBase, t.Level, entry, _nextSeq);
        _fifo.Enqueue((t.VirtualBase, t.Level, _nextSeq++));
        if (_fifo.Count > 4 * Capacity)
            Compact();
    }

    private void Insert(ulong va, PageLevel level, TlbEntry entry, long seq)
    {
        int s = Home(va, level);
        while (_level[s] != PageLevel.PG_LEVEL_NONE)
            s = (s + 1) & _mask;
        _base[s] = va;
        _level[s] = level;
        _entry[s] = entry;
        _seq[s] = seq;
        Count++;
    }

    private void Remove(ulong va, PageLevel level)
    {
        int s = Find(va, level);
        if (s >= 0)
            RemoveSlot(s);
    }

    /// <summary>Empties a slot and moves later members of its probe run back (linear probing without tombstones).</summary>
    private void RemoveSlot(int s)
    {
        _level[s] = PageLevel.PG_LEVEL_NONE;
        _entry[s] = default;
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
            _seq[hole] = _seq[j];
            _level[j] = PageLevel.PG_LEVEL_NONE;
            _entry[j] = default;
            hole = j;
        }
    }

    /// <summary>Drops the stale items of the fill-order queue.</summary>
    private void Compact()
    {
        int n = _fifo.Count;
        for (int i = 0; i < n; i++)
        {
            var x = _fifo.Dequeue();
            int s = Find(x.Base, x.Level);
            if (s >= 0 && _seq[s] == x.Seq)
                _fifo.Enqueue(x);
        }
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
        Count = 0;
        _fifo.Clear();
    }

    /// <summary>A CR3 write: non-global entries go, global ones stay.</summary>
    public void FlushNonGlobal()
    {
        if (Count == 0)
            return;
        for (int s = 0; s <= _mask; s++)
        {
            // A removal can move a later entry into this slot: look at it again.
            while (_level[s] != PageLevel.PG_LEVEL_NONE && !_entry[s].Global)
                RemoveSlot(s);
        }
    }
}
