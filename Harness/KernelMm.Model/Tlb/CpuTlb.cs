using KernelMm.Model.Paging;

namespace KernelMm.Model.Tlb;

/// <summary>
/// One CPU's TLB: translations of 4K, 2M and 1G pages, filled on access and kept until
/// INVLPG, a full flush, or eviction. Capacity is bounded and eviction is FIFO, so the
/// model is deterministic and a check of all entries stays cheap.
/// </summary>
public sealed class CpuTlb
{
    /// <summary>Roughly a modern core's second-level TLB.</summary>
    public const int DefaultCapacity = 1536;

    private readonly Dictionary<(ulong Base, PageLevel Level), TlbEntry> _entries = [];
    private readonly Queue<(ulong Base, PageLevel Level)> _fifo = new();

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
        if (_entries.ContainsKey(key))
        {
            _entries[key] = new TlbEntry(Cpu, t, (t.Flags & PageBits._PAGE_GLOBAL) != 0);
            return;
        }
        while (_entries.Count >= Capacity && _fifo.TryDequeue(out var old))
            _entries.Remove(old);
        _entries[key] = new TlbEntry(Cpu, t, (t.Flags & PageBits._PAGE_GLOBAL) != 0);
        _fifo.Enqueue(key);
    }

    /// <summary>INVLPG: drops every entry, of any size, that covers <paramref name="va"/>.</summary>
    public void Invlpg(ulong va)
    {
        foreach (var level in Levels)
        {
            ulong size = PageShifts.page_level_size(level);
            _entries.Remove((va & ~(size - 1), level));
        }
    }

    /// <summary>A full flush including global entries (flush_tlb_all's __flush_tlb_all).</summary>
    public void FlushAll()
    {
        _entries.Clear();
        _fifo.Clear();
    }

    /// <summary>A CR3 write: non-global entries go, global ones stay.</summary>
    public void FlushNonGlobal()
    {
        foreach (var key in _entries.Where(kv => !kv.Value.Global).Select(kv => kv.Key).ToList())
            _entries.Remove(key);
    }
}
