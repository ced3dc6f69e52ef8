using System.Globalization;
using System.Text.RegularExpressions;

namespace KernelMm.Harness.State;

/// <summary>A live process as a checkpoint shows it: /proc/PID/status memory lines (kB) and its user page-table dump.</summary>
public sealed record ProcessState(int Pid, string Comm, string? Memcg, IReadOnlyList<(string Name, long Kb)> Status, string PageTables);

/// <summary>A memory cgroup as a checkpoint shows it: its lines (<c>memory.usage_in_bytes</c>, <c>memory.stat pagetables</c>...) in bytes.</summary>
public sealed record MemcgState(string Name, IReadOnlyList<(string Key, long Bytes)> Lines);

/// <summary>One numeric value of a checkpoint, named as the compare table and the toggle effects name it.</summary>
/// <param name="Group">Where it comes from: <c>vmstat</c>, <c>events</c>, <c>meminfo</c>, <c>process 1 (qemu)</c>, <c>memcg vm</c>, <c>recorded</c>.</param>
/// <param name="Name">Its name there (<c>nr_free_pages</c>, <c>MemFree</c>, <c>VmPTE</c>, <c>memory.stat pagetables</c>, a recorded key).</param>
/// <param name="Value">Its value (kB for meminfo and status lines, bytes for memcg lines, as printed).</param>
public readonly record struct Metric(string Group, string Name, double Value)
{
    public string Key => Group + "." + Name;
}

/// <summary>
/// One checkpoint of a rendered state, read back into its sections (the format of
/// <see cref="StateCapture"/>): what <c>--where</c> expressions, <c>kmm compare</c> and the toggle
/// effects work on. Reading the text rather than the model means a verified snapshot reads
/// the same as a fresh run.
/// </summary>
public sealed partial class CheckpointState
{
    private const string CheckpointHeader = "### checkpoint: ";

    private CheckpointState(string name, string text) { Name = name; Text = text; }

    /// <summary>As the script named it (<c>end</c> for the final state).</summary>
    public string Name { get; }

    /// <summary>The checkpoint's rendered sections, without its header line.</summary>
    public string Text { get; }

    public IReadOnlyList<(string Name, long Value)> Vmstat { get; private set; } = [];
    public IReadOnlyList<(string Name, long Value)> Events { get; private set; } = [];
    public IReadOnlyList<(string Name, long Kb)> Meminfo { get; private set; } = [];
    public IReadOnlyList<ProcessState> Processes { get; private set; } = [];
    public IReadOnlyList<MemcgState> Memcgs { get; private set; } = [];

    /// <summary>The kernel page-table dump and the W+X check line.</summary>
    public string KernelPageTables { get; private set; } = "";

    public IReadOnlyList<(string Key, string Value)> Recorded { get; private set; } = [];

    /// <summary>Kernel warnings, taints and invariant violations, one per line (empty when the section says none).</summary>
    public IReadOnlyList<string> Warnings { get; private set; } = [];

    /// <summary>Splits a rendered state (one combination's checkpoints, or an outcome's) into its checkpoints, in order.</summary>
    public static IReadOnlyList<CheckpointState> Parse(string state)
    {
        var result = new List<CheckpointState>();
        string? name = null;
        var body = new List<string>();
        foreach (var line in Lines(state))
        {
            if (line.StartsWith(CheckpointHeader, StringComparison.Ordinal) && (name is null || InSectionOrder(body)))
            {
                if (name is not null)
                    result.Add(Build(name, body));
                name = line[CheckpointHeader.Length..];
                body = [];
            }
            else if (name is not null)
            {
                body.Add(line);
            }
        }
        if (name is not null)
            result.Add(Build(name, body));
        return result;
    }

    // A recorded value cannot start a line with "### checkpoint: " after the warnings section began, so a
    // header is only taken once the previous checkpoint reached its last section.
    private static bool InSectionOrder(List<string> body) => body.Contains("#### warnings");

    /// <summary>Every numeric value, in the checkpoint's own order: vmstat, events, meminfo, processes, memcgs, numeric recorded values, then the number of warning lines.</summary>
    public IEnumerable<Metric> Metrics()
    {
        foreach (var (n, v) in Vmstat)
            yield return new Metric("vmstat", n, v);
        foreach (var (n, v) in Events)
            yield return new Metric("events", n, v);
        foreach (var (n, v) in Meminfo)
            yield return new Metric("meminfo", n, v);
        foreach (var p in Processes)
            foreach (var (n, v) in p.Status)
                yield return new Metric($"process {p.Pid} ({p.Comm})", n, v);
        foreach (var cg in Memcgs)
            foreach (var (k, v) in cg.Lines)
                yield return new Metric($"memcg {cg.Name}", k, v);
        foreach (var (k, v) in Recorded)
            if (TryNumber(v, out double d))
                yield return new Metric("recorded", k, d);
        yield return new Metric("warnings", "lines", Warnings.Count);
    }

    /// <summary>The non-numeric parts, by name, for saying what else differs: page-table dumps and warnings.</summary>
    public IEnumerable<(string Name, string Text)> Texts()
    {
        yield return ("kernel page tables", KernelPageTables);
        foreach (var p in Processes)
            yield return ($"process {p.Pid} ({p.Comm}) user page tables", p.PageTables);
        yield return ("warnings", string.Join("\n", Warnings));
        foreach (var (k, v) in Recorded)
            if (!TryNumber(v, out _))
                yield return ($"recorded {k}", v);
    }

    /// <summary>A recorded value as a number: a whole or decimal number in invariant format.</summary>
    public static bool TryNumber(string s, out double value) =>
        double.TryParse(s, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value);

    private static CheckpointState Build(string name, List<string> body)
    {
        var cp = new CheckpointState(name, string.Concat(body.Select(l => l + "\n")));
        var sections = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        List<string>? current = null;
        foreach (var line in body)
        {
            if (line.StartsWith("#### ", StringComparison.Ordinal))
                sections[line[5..]] = current = [];
            else
                current?.Add(line);
        }
        List<string> Section(string s) => sections.TryGetValue(s, out var l) ? l : [];

        cp.Vmstat = [.. Section("vmstat").Select(NameValue).OfType<(string, long)>()];
        cp.Events = [.. Section("events").Select(NameValue).OfType<(string, long)>()];
        cp.Meminfo = [.. Section("meminfo").Select(ColonValue).OfType<(string, long)>()];
        cp.Processes = ParseProcesses(Section("processes"));
        cp.Memcgs = ParseMemcgs(Section("memcg"));
        cp.KernelPageTables = string.Concat(Section("kernel page tables").Select(l => l + "\n"));
        cp.Recorded = [.. Section("recorded").Where(l => l != "none").Select(Record)];
        cp.Warnings = [.. Section("warnings").Where(l => l != "none")];
        return cp;
    }

    // "key = value"; an empty value was printed as "key = " and lost its trailing space.
    private static (string, string) Record(string line)
    {
        int eq = line.IndexOf(" = ", StringComparison.Ordinal);
        if (eq >= 0)
            return (line[..eq], line[(eq + 3)..]);
        return line.EndsWith(" =", StringComparison.Ordinal) ? (line[..^2], "") : (line, "");
    }

    private static List<ProcessState> ParseProcesses(List<string> lines)
    {
        var result = new List<ProcessState>();
        int i = 0;
        while (i < lines.Count)
        {
            var m = ProcessHeader().Match(lines[i++]);
            if (!m.Success)
                continue;
            string? memcg = null;
            var status = new List<(string, long)>();
            var tables = new List<string>();
            bool inTables = false;
            for (; i < lines.Count && !lines[i].StartsWith("##### ", StringComparison.Ordinal); i++)
            {
                string l = lines[i];
                if (inTables)
                    tables.Add(l);
                else if (l == "user page tables:")
                    inTables = true;
                else if (l.StartsWith("memcg: ", StringComparison.Ordinal))
                    memcg = l[7..];
                else if (ColonValue(l) is { } v)
                    status.Add(v);
            }
            result.Add(new ProcessState(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m.Groups[2].Value, memcg, status,
                string.Concat(tables.Select(t => t + "\n"))));
        }
        return result;
    }

    private static List<MemcgState> ParseMemcgs(List<string> lines)
    {
        var result = new List<MemcgState>();
        string? name = null;
        var entries = new List<(string, long)>();
        foreach (var l in lines)
        {
            if (l.StartsWith("##### memcg ", StringComparison.Ordinal))
            {
                if (name is not null)
                    result.Add(new MemcgState(name, entries));
                name = l[12..];
                entries = [];
            }
            else if (name is not null)
            {
                int sp = l.LastIndexOf(' ');
                if (sp > 0 && long.TryParse(l[(sp + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
                    entries.Add((l[..sp], v));
            }
        }
        if (name is not null)
            result.Add(new MemcgState(name, entries));
        return result;
    }

    // "nr_free_pages 1024839"
    private static (string, long)? NameValue(string line)
    {
        int sp = line.LastIndexOf(' ');
        return sp > 0 && long.TryParse(line[(sp + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v)
            ? (line[..sp], v)
            : null;
    }

    // "MemFree:         4099356 kB" (meminfo) and "VmPTE:         148 kB" (status)
    private static (string, long)? ColonValue(string line)
    {
        int colon = line.IndexOf(':');
        if (colon <= 0)
            return null;
        string rest = line[(colon + 1)..].Trim();
        if (rest.EndsWith(" kB", StringComparison.Ordinal))
            rest = rest[..^3].TrimEnd();
        return long.TryParse(rest, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) ? (line[..colon], v) : null;
    }

    private static IEnumerable<string> Lines(string s)
    {
        var parts = s.Split('\n');
        return s.EndsWith('\n') ? parts[..^1] : parts;
    }

    [GeneratedRegex(@"^##### process (\d+) \((.*)\)$")]
    private static partial Regex ProcessHeader();
}
