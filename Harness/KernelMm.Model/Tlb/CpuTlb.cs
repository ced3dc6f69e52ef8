using KernelMm.Model.Paging;

namespace KernelMm.Model.Tlb;

/// <summary>
/// One CPU's TLB: translations of 4K, 2M and 1G pages, filled on access and kept until
/// INVLPG, a full flush, or eviction. Capacity is bounded and eviction is FIFO, so the
/// model is deterministic and a check of all entries stays cheap.
/// </summary>
public sealed class CpuTlb
{
    /// <summary>A first-level data TLB (64 entries): enough to observe, cheap to check at every flush point.</summary>
    public const int DefaultCapacity = 64;

    private readonly Dictionary<(ulong Base, PageLevel Level), TlbEntry> _entries = [];
    // Fill order for FIFO eviction; an item whose sequence number is not the entry's is stale.
    private readonly Dictionary<(ulong Base, PageLevel Level), long> _seq = [];
    private readonly Queue<((ulong Base, PageLevel Level) Key, long Seq)> _fifo = new();
    private long _nextSeq;

    public CpuTlb(int cpu, int capacity = DefaultCapacity)
    {
        Cpu = cpu;
        Capacity = capacity;
    }

    public int Cpu { get; }

    public int Capacity { get; }

    /// <summary>The pgd frame loaded in CR3 (init_mm's until a task runs here).</summary>
    public long CurrentPgd { get; set; } = -1;

    public int Count => _entries.Count;

    public IEnumerable<TlbEntry> Entries => _entries.Values;

    /// <summary>The entry a lookup of <paramref name="va"/> hits, smallest size first (as a split TLB would match any).</summary>
    public TlbEntry? Lookup(ulong va)
    {
        foreach (var level in Levels)
        {
            ulong size = PageShifts.page_level_size(level);
            if (_entries.TryGetValue((va & ~(size - 1), level), out var e))
                return e;
        }
        return null;
    }

    /// <summary>All entries, of any size, that cover <paramref name="va"/>.</summary>
    public IEnumerable<TlbEntry> Covering(ulong va)
    {
        foreach (var level in Levels)
        {
            ulong size = PageShifts.page_level_size(level);
            if (_entries.TryGetValue((va & ~(size - 1), level), out var e))
                yield return e;
        }
    }

    private static readonly PageLevel[] Levels = [PageLevel.PG_LEVEL_4K, PageLevel.PG_LEVEL_2M, PageLevel.PG_LEVEL_1G];

    public void Fill(Translation t)
    {
        var key = (t.VirtualBase, t.Level);
        var entry = new TlbEntry(Cpu, t, (t.Flags & PageBits._PAGE_GLOBAL) != 0);
        if (_entries.ContainsKey(key))
        {
            _entries[key] = entry;
            return;
        }
        while (_entries.Count >= Capacity && _fifo.TryDequeue(out var old))
        {
            if (_seq.TryGetValue(old.Key, out long seq) && seq == old.Seq)
                Remove(old.Key);
        }
        _entries[key] = entry;
        _seq[key] = _nextSeq;
        _fifo.Enqueue((key, _nextSeq++));
        if (_fifo.Count > 4 * Capacity)
            Compact();
    }

    private void Remove((ulong, PageLevel) key)
    {
        _entries.Remove(key);
        _seq.Remove(key);
    }

    /// <summary>Drops the stale items of the fill-order queue.</summary>
    private void Compact()
    {
        var live = _fifo.Where(x => _seq.TryGetValue(x.Key, out long s) && s == x.Seq).ToList();
        _fifo.Clear();
        foreach (var x in live)
            _fifo.Enqueue(x);
    }

    /// <summary>INVLPG: drops every entry, of any size, that covers <paramref name="va"/>.</summary>
    public void Invlpg(ulong va)
    {
        foreach (var level in Levels)
        {
            ulong size = PageShifts.page_level_size(level);
            Remove((va & ~(size - 1), level));
        }
    }

    /// <summary>A full flush including global entries (flush_tlb_all's __flush_tlb_all).</summary>
    public void FlushAll()
    {
        _entries.Clear();
        _seq.Clear();
        _fifo.Clear();
    }

    /// <summary>A CR3 write: non-global entries go, global ones stay.</summary>
    public void FlushNonGlobal()
    {
        foreach (var key in _entries.Where(kv => !kv.Value.Global).Select(kv => kv.Key).ToList())
            Remove(key);
    }
}
