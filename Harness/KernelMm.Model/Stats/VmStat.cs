namespace KernelMm.Model.Stats;

/// <summary>
/// Global vm counters and events, and their /proc/vmstat rendering (mm/vmstat.c). Counters
/// are exact: the model folds per-CPU deltas at once, as /proc/vmstat would after
/// vmstat_update. A patch may register a counter of its own after a named anchor; it then
/// prints only in kernels that registered it.
/// </summary>
public sealed class VmStat
{
    /// <summary>vmstat_text for <see cref="VmStatItem"/>, then <see cref="VmEventItem"/>: same order, same count.</summary>
    public static readonly string[] vmstat_text =
    [
        "nr_free_pages",
        "nr_page_table_pages",
        "nr_kernel_stack",
        "nr_bounce",
        "nr_anon_pages",
    ];

    /// <summary>The names of <see cref="VmEventItem"/> in vmstat_text's event part.</summary>
    public static readonly string[] vm_event_text =
    [
        "pgalloc_dma",
        "pgalloc_dma32",
        "pgalloc_normal",
        "pgfree",
        "pglazyfree",
        "pgfault",
        "pglazyfreed",
        "direct_map_level2_splits",
        "direct_map_level3_splits",
    ];

    private readonly long[] _items = new long[(int)VmStatItem.NR_VM_STAT_ITEMS];
    private readonly long[] _events = new long[(int)VmEventItem.NR_VM_EVENT_ITEMS];
    private readonly List<ExtraCounter> _extra = [];

    private sealed class ExtraCounter(string name, string after, bool isEvent = false)
    {
        public string Name { get; } = name;
        public string After { get; } = after;
        public bool IsEvent { get; } = isEvent;
        public long Value;
    }

    /// <summary>The BUILD_BUG_ON of mm/vmstat.c: the names and the items must match in number.</summary>
    public static bool NamesInLockstep(out string why)
    {
        why = "";
        if (vmstat_text.Length != (int)VmStatItem.NR_VM_STAT_ITEMS)
            why = $"vmstat_text has {vmstat_text.Length} counter names for {(int)VmStatItem.NR_VM_STAT_ITEMS} items";
        else if (vm_event_text.Length != (int)VmEventItem.NR_VM_EVENT_ITEMS)
            why = $"vm_event_text has {vm_event_text.Length} names for {(int)VmEventItem.NR_VM_EVENT_ITEMS} events";
        else if (vmstat_text.Concat(vm_event_text).Distinct().Count() != vmstat_text.Length + vm_event_text.Length)
            why = "a vmstat name is used twice";
        return why.Length == 0;
    }

    public long this[VmStatItem item] => _items[(int)item];

    public long this[VmEventItem item] => _events[(int)item];

    public void Mod(VmStatItem item, long delta) => _items[(int)item] += delta;

    public void Count(VmEventItem item, long delta = 1) => _events[(int)item] += delta;

    /// <summary>
    /// Adds a counter line after <paramref name="after"/> (a counter's name) and returns its
    /// handle. This is how a patch adds e.g. <c>nr_overhead</c> after <c>nr_kernel_stack</c>.
    /// </summary>
    public int RegisterCounter(string name, string after)
    {
        if (Array.IndexOf(vmstat_text, after) < 0 && _extra.All(e => e.Name != after))
            throw new ArgumentException($"no vmstat counter '{after}' to insert '{name}' after", nameof(after));
        if (TryGet(name, out _))
            throw new ArgumentException($"vmstat counter '{name}' exists already", nameof(name));
        _extra.Add(new ExtraCounter(name, after));
        return _extra.Count - 1;
    }

    /// <summary>
    /// Adds a vm event line after <paramref name="after"/> (an event's name) and returns its
    /// handle: the collapse of large pages adds <c>direct_map_level2_collapses</c> after
    /// <c>direct_map_level3_splits</c>.
    /// </summary>
    public int RegisterEvent(string name, string after)
    {
        if (Array.IndexOf(vm_event_text, after) < 0 && _extra.All(e => !e.IsEvent || e.Name != after))
            throw new ArgumentException($"no vm event '{after}' to insert '{name}' after", nameof(after));
        if (TryGet(name, out _))
            throw new ArgumentException($"vm event '{name}' exists already", nameof(name));
        _extra.Add(new ExtraCounter(name, after, isEvent: true));
        return _extra.Count - 1;
    }

    /// <summary>Whether <paramref name="name"/> is an event of this kernel (the fixed ones and those registered), not a counter.</summary>
    public bool IsEvent(string name) => Array.IndexOf(vm_event_text, name) >= 0 || _extra.Any(e => e.IsEvent && e.Name == name);

    public void ModExtra(int handle, long delta) => _extra[handle].Value += delta;

    public long GetExtra(int handle) => _extra[handle].Value;

    /// <summary>A counter or event by its /proc/vmstat name.</summary>
    public long this[string name] => TryGet(name, out long v)
        ? v
        : throw new KeyNotFoundException($"/proc/vmstat has no line '{name}' in this kernel");

    public bool TryGet(string name, out long value)
    {
        foreach (var (n, v) in Lines())
        {
            if (n == name)
            {
                value = v;
                return true;
            }
        }
        value = 0;
        return false;
    }

    /// <summary>The lines of /proc/vmstat, in order.</summary>
    public IEnumerable<(string Name, long Value)> Lines()
    {
        for (int i = 0; i < _items.Length; i++)
        {
            yield return (vmstat_text[i], _items[i]);
            foreach (var e in ExtrasAfter(vmstat_text[i]))
                yield return e;
        }
        for (int i = 0; i < _events.Length; i++)
        {
            yield return (vm_event_text[i], _events[i]);
            foreach (var e in ExtrasAfter(vm_event_text[i]))
                yield return e;
        }
    }

    private IEnumerable<(string, long)> ExtrasAfter(string anchor)
    {
        foreach (var e in _extra)
        {
            if (e.After != anchor)
                continue;
            yield return (e.Name, e.Value);
            foreach (var nested in ExtrasAfter(e.Name))
                yield return nested;
        }
    }

    /// <summary>/proc/vmstat as the kernel prints it: "name value" lines.</summary>
    public string Render()
    {
        var sb = new System.Text.StringBuilder();
        foreach (var (n, v) in Lines())
            sb.Append(n).Append(' ').Append(v).Append('\n');
        return sb.ToString();
    }
}
