using System.Collections;
using System.Globalization;
using KernelMm.Harness.State;

namespace KernelMm.Harness.Bisect;

/// <summary>
/// A <c>--where</c> expression read a name this checkpoint does not have (a counter a patch
/// adds, a process that exited, a value recorded at another checkpoint). The condition then
/// does not hold there: a state without <c>nr_overhead</c> does not show "nr_overhead &gt; 256".
/// </summary>
public sealed class StateNameMissingException(string what, string name, IEnumerable<string>? known = null)
    : KeyNotFoundException($"{what} has no '{name}' here{(known is null ? "" : KernelMm.Patches.Spelling.DidYouMean(name, known))}")
{
    /// <summary>Where it was looked up (<c>/proc/vmstat</c>, <c>recorded</c>...).</summary>
    public string What { get; } = what;

    public string Name { get; } = name;
}

/// <summary>Names and values of one section (<c>Vmstat</c>, <c>Events</c>, <c>Meminfo</c> in kB, a process's status in kB).</summary>
public sealed class StateLookup
{
    private readonly string _what;
    private readonly IReadOnlyList<(string Name, long Value)> _lines;

    internal StateLookup(string what, IReadOnlyList<(string Name, long Value)> lines)
    {
        _what = what;
        _lines = lines;
    }

    public long this[string name]
    {
        get
        {
            foreach (var (n, v) in _lines)
                if (n == name)
                    return v;
            throw new StateNameMissingException(_what, name, _lines.Select(l => l.Name));
        }
    }

    public bool Has(string name) => _lines.Any(l => l.Name == name);

    /// <summary>The value, or <paramref name="fallback"/> where the name is missing.</summary>
    public long Get(string name, long fallback) => Has(name) ? this[name] : fallback;

    public IReadOnlyList<(string Name, long Value)> All => _lines;
}

/// <summary>
/// A recorded value: compares with numbers (<c>Recorded["x"] &lt; 151552</c>), strings
/// (<c>== "true"</c>) and booleans (<c>== true</c>), and converts to <c>long</c>, <c>double</c>
/// and <c>bool</c>; <see cref="Text"/> is the value as the snapshot prints it.
/// </summary>
public readonly struct StateValue : IEquatable<StateValue>
{
    private readonly string _key;

    internal StateValue(string key, string text)
    {
        _key = key;
        Text = text;
    }

    public string Text { get; }

    public long AsLong() => long.TryParse(Text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v)
        ? v
        : AsDouble() is var d && d == Math.Floor(d) && Math.Abs(d) < 9e18 ? (long)d : throw NotA("a whole number");

    public double AsDouble() => CheckpointState.TryNumber(Text, out double v) ? v : throw NotA("a number");

    public bool AsBool() => Text switch
    {
        "true" => true,
        "false" => false,
        _ => throw NotA("true or false"),
    };

    private FormatException NotA(string what) => new($"recorded '{_key}' is '{Text}', not {what}");

    public static implicit operator long(StateValue v) => v.AsLong();
    public static implicit operator double(StateValue v) => v.AsDouble();
    public static implicit operator bool(StateValue v) => v.AsBool();

    public static bool operator <(StateValue a, long b) => a.AsDouble() < b;
    public static bool operator >(StateValue a, long b) => a.AsDouble() > b;
    public static bool operator <=(StateValue a, long b) => a.AsDouble() <= b;
    public static bool operator >=(StateValue a, long b) => a.AsDouble() >= b;
    public static bool operator <(long a, StateValue b) => a < b.AsDouble();
    public static bool operator >(long a, StateValue b) => a > b.AsDouble();
    public static bool operator <=(long a, StateValue b) => a <= b.AsDouble();
    public static bool operator >=(long a, StateValue b) => a >= b.AsDouble();
    public static bool operator <(StateValue a, double b) => a.AsDouble() < b;
    public static bool operator >(StateValue a, double b) => a.AsDouble() > b;
    public static bool operator <=(StateValue a, double b) => a.AsDouble() <= b;
    public static bool operator >=(StateValue a, double b) => a.AsDouble() >= b;
    public static bool operator <(double a, StateValue b) => a < b.AsDouble();
    public static bool operator >(double a, StateValue b) => a > b.AsDouble();
    public static bool operator <=(double a, StateValue b) => a <= b.AsDouble();
    public static bool operator >=(double a, StateValue b) => a >= b.AsDouble();

    public static bool operator <(StateValue a, StateValue b) => a.AsDouble() < b.AsDouble();
    public static bool operator >(StateValue a, StateValue b) => a.AsDouble() > b.AsDouble();
    public static bool operator <=(StateValue a, StateValue b) => a.AsDouble() <= b.AsDouble();
    public static bool operator >=(StateValue a, StateValue b) => a.AsDouble() >= b.AsDouble();

    public static bool operator ==(StateValue a, long b) => a.AsDouble() == b;
    public static bool operator !=(StateValue a, long b) => !(a == b);
    public static bool operator ==(long a, StateValue b) => b == a;
    public static bool operator !=(long a, StateValue b) => !(b == a);
    public static bool operator ==(StateValue a, double b) => a.AsDouble() == b;
    public static bool operator !=(StateValue a, double b) => !(a == b);
    public static bool operator ==(double a, StateValue b) => b == a;
    public static bool operator !=(double a, StateValue b) => !(b == a);
    public static bool operator ==(StateValue a, string b) => a.Text == b;
    public static bool operator !=(StateValue a, string b) => a.Text != b;
    public static bool operator ==(string a, StateValue b) => a == b.Text;
    public static bool operator !=(string a, StateValue b) => a != b.Text;
    public static bool operator ==(StateValue a, bool b) => a.AsBool() == b;
    public static bool operator !=(StateValue a, bool b) => a.AsBool() != b;
    public static bool operator ==(StateValue a, StateValue b) => a.Text == b.Text;
    public static bool operator !=(StateValue a, StateValue b) => a.Text != b.Text;

    public bool Equals(StateValue other) => Text == other.Text;
    public override bool Equals(object? obj) => obj is StateValue v && Equals(v);
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Text ?? "");
    public override string ToString() => Text;
}

/// <summary>The values the script recorded since the previous checkpoint.</summary>
public sealed class RecordedLookup
{
    private readonly IReadOnlyList<(string Key, string Value)> _lines;

    internal RecordedLookup(IReadOnlyList<(string Key, string Value)> lines) => _lines = lines;

    public StateValue this[string key]
    {
        get
        {
            foreach (var (k, v) in _lines)
                if (k == key)
                    return new StateValue(k, v);
            throw new StateNameMissingException("recorded", key);
        }
    }

    public bool Has(string key) => _lines.Any(l => l.Key == key);

    public IReadOnlyList<(string Key, string Value)> All => _lines;
}

/// <summary>A live process: <c>Processes["qemu"]["VmPTE"]</c> (kB), <c>.Pid</c>, <c>.Memcg</c>, <c>.PageTables</c>.</summary>
public sealed class ProcessView
{
    internal ProcessView(ProcessState p)
    {
        Pid = p.Pid;
        Comm = p.Comm;
        Memcg = p.Memcg;
        PageTables = p.PageTables;
        Status = new StateLookup($"/proc/{p.Pid}/status", p.Status);
    }

    public int Pid { get; }
    public string Comm { get; }
    public string? Memcg { get; }

    /// <summary>Its user page tables, in the ptdump format.</summary>
    public string PageTables { get; }

    public StateLookup Status { get; }

    public long this[string name] => Status[name];
}

/// <summary>The live processes, by pid (<c>Processes[1]</c>) or by name (<c>Processes["qemu"]</c>, when one process has it).</summary>
public sealed class ProcessesLookup : IEnumerable<ProcessView>
{
    private readonly IReadOnlyList<ProcessView> _all;

    internal ProcessesLookup(IEnumerable<ProcessState> processes) => _all = [.. processes.Select(p => new ProcessView(p))];

    public ProcessView this[int pid] => _all.FirstOrDefault(p => p.Pid == pid) ?? throw new StateNameMissingException("processes", $"pid {pid}");

    public ProcessView this[string comm]
    {
        get
        {
            var named = _all.Where(p => p.Comm == comm).ToList();
            return named.Count switch
            {
                0 => throw new StateNameMissingException("processes", comm),
                1 => named[0],
                _ => throw new InvalidOperationException($"{named.Count} processes are named '{comm}': use Processes[pid]"),
            };
        }
    }

    public bool Has(string comm) => _all.Any(p => p.Comm == comm);

    public int Count => _all.Count;

    public IEnumerator<ProcessView> GetEnumerator() => _all.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// A memory cgroup: <c>Memcg["vm"]["pagetables"]</c> reads <c>memory.stat pagetables</c>;
/// full line names (<c>memory.kmem.usage_in_bytes</c>) work too; <c>.Usage</c> and <c>.KmemUsage</c> in bytes.
/// </summary>
public sealed class MemcgView
{
    private readonly MemcgState _cg;

    internal MemcgView(MemcgState cg)
    {
        _cg = cg;
        Stat = new StateLookup($"memory.stat of {cg.Name}",
            [.. cg.Lines.Where(l => l.Key.StartsWith("memory.stat ", StringComparison.Ordinal)).Select(l => (l.Key[12..], l.Bytes))]);
    }

    public string Name => _cg.Name;

    public StateLookup Stat { get; }

    public long Usage => this["memory.usage_in_bytes"];

    public long KmemUsage => this["memory.kmem.usage_in_bytes"];

    public long this[string key]
    {
        get
        {
            foreach (var (k, v) in _cg.Lines)
                if (k == key || k == "memory." + key || k == "memory.stat " + key)
                    return v;
            throw new StateNameMissingException($"memcg {_cg.Name}", key);
        }
    }
}

/// <summary>The memory cgroups, by name.</summary>
public sealed class MemcgsLookup : IEnumerable<MemcgView>
{
    private readonly IReadOnlyList<MemcgView> _all;

    internal MemcgsLookup(IEnumerable<MemcgState> memcgs) => _all = [.. memcgs.Select(m => new MemcgView(m))];

    public MemcgView this[string name] => _all.FirstOrDefault(m => m.Name == name) ?? throw new StateNameMissingException("memcg", name);

    public bool Has(string name) => _all.Any(m => m.Name == name);

    public IEnumerator<MemcgView> GetEnumerator() => _all.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// What a <c>--where</c> expression sees: one checkpoint's captured state, in the snapshot's
/// sections. <c>Vmstat["nr_overhead"] &gt; 256</c>, <c>Meminfo["DirectMap4k"] &gt; 8192</c>,
/// <c>Recorded["after free_ptes: pagetables bytes"] &lt; 151552</c>,
/// <c>Memcg["vm"]["pagetables"] == 0</c>, <c>Processes["qemu"]["VmPTE"] &lt; 100</c>,
/// <c>Warnings.Any(w =&gt; w.Contains("Bad page"))</c>.
/// </summary>
public sealed class WhereGlobals
{
    public WhereGlobals(CheckpointState state)
    {
        Checkpoint = state.Name;
        Vmstat = new StateLookup("/proc/vmstat", state.Vmstat);
        Events = new StateLookup("/proc/vmstat (events)", state.Events);
        Meminfo = new StateLookup("/proc/meminfo", state.Meminfo);
        Recorded = new RecordedLookup(state.Recorded);
        Processes = new ProcessesLookup(state.Processes);
        Memcg = new MemcgsLookup(state.Memcgs);
        Warnings = state.Warnings;
        KernelPageTables = state.KernelPageTables;
    }

    /// <summary>The checkpoint's name.</summary>
    public string Checkpoint { get; }

    public StateLookup Vmstat { get; }
    public StateLookup Events { get; }

    /// <summary>kB, as printed.</summary>
    public StateLookup Meminfo { get; }

    public RecordedLookup Recorded { get; }
    public ProcessesLookup Processes { get; }
    public MemcgsLookup Memcg { get; }

    /// <summary>The warnings section, one line each: BUG/WARN reports, taints, invariant violations.</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>The kernel page-table dump, in the ptdump format, and the W+X line.</summary>
    public string KernelPageTables { get; }
}
