using System.Globalization;
using System.Text;
using KernelMm.Harness.Bisect;
using KernelMm.Harness.Snapshots;
using KernelMm.Harness.State;

namespace KernelMm.Harness.Compare;

/// <summary>How a row's change is shown.</summary>
public enum ChangeKind
{
    /// <summary>A percentage of the base value.</summary>
    Percent,

    /// <summary>An absolute change: the base value is 0.</summary>
    Absolute,

    /// <summary>The metric exists in head only (a counter a patch adds).</summary>
    Added,

    /// <summary>The metric exists in base only.</summary>
    Removed,
}

/// <summary>One metric that differs between base and head.</summary>
public sealed record CompareRow(string Metric, double? Base, double? Head, ChangeKind Kind)
{
    public double Delta => (Head ?? 0) - (Base ?? 0);

    public double Percent => Base is { } b && b != 0 ? Delta / Math.Abs(b) * 100 : double.PositiveInfinity;
}

/// <summary>The rows of one checkpoint, sorted by size of change, and what else (page tables, warnings, text values) differs there.</summary>
public sealed record CompareSection(string Checkpoint, IReadOnlyList<CompareRow> Rows, IReadOnlyList<string> OtherDifferences);

/// <summary>
/// <c>kmm compare</c>: two combinations of a scenario side by side in the 0-day robot's table
/// shape: one row per metric that differs (vmstat, events, meminfo, per-process status, memcg,
/// numeric recorded values) with the base value, the change (percent, or absolute for a
/// counter that starts at 0) and the head value, largest change first; then the non-numeric
/// parts that differ. One table per checkpoint.
/// </summary>
public static class CompareTable
{
    public static IReadOnlyList<CompareSection> Build(string baseState, string headState, string? checkpoint = null)
    {
        var bases = CheckpointState.Parse(baseState);
        var heads = CheckpointState.Parse(headState);
        var names = bases.Select(c => c.Name).Concat(heads.Select(c => c.Name)).Distinct().Where(n => checkpoint is null || n == checkpoint).ToList();
        var sections = new List<CompareSection>();
        foreach (var name in names)
        {
            var b = bases.FirstOrDefault(c => c.Name == name);
            var h = heads.FirstOrDefault(c => c.Name == name);
            if (b is null || h is null)
            {
                sections.Add(new CompareSection(name, [], [$"checkpoint only in {(b is null ? "head" : "base")}"]));
                continue;
            }
            sections.Add(new CompareSection(name, Rows(b, h), Others(b, h)));
        }
        return sections;
    }

    private static List<CompareRow> Rows(CheckpointState b, CheckpointState h)
    {
        var baseValues = new Dictionary<string, double>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (var m in b.Metrics())
            if (baseValues.TryAdd(m.Key, m.Value))
                order.Add(m.Key);
        var headValues = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var m in h.Metrics())
            if (headValues.TryAdd(m.Key, m.Value) && !baseValues.ContainsKey(m.Key))
                order.Add(m.Key);

        var rows = new List<CompareRow>();
        foreach (var key in order)
        {
            bool inBase = baseValues.TryGetValue(key, out double bv), inHead = headValues.TryGetValue(key, out double hv);
            if (inBase && inHead && bv == hv)
                continue;
            var kind = !inBase ? ChangeKind.Added : !inHead ? ChangeKind.Removed : bv == 0 ? ChangeKind.Absolute : ChangeKind.Percent;
            rows.Add(new CompareRow(key, inBase ? bv : null, inHead ? hv : null, kind));
        }
        // Largest change first: what appeared or went, then changes from zero, then by percentage; ties keep the state's order.
        return [.. rows.OrderBy(r => r.Kind switch { ChangeKind.Added or ChangeKind.Removed => 0, ChangeKind.Absolute => 1, _ => 2 })
            .ThenByDescending(r => r.Kind == ChangeKind.Absolute ? Math.Abs(r.Delta) : r.Kind == ChangeKind.Percent ? Math.Abs(r.Percent) : 0)];
    }

    private static List<string> Others(CheckpointState b, CheckpointState h)
    {
        var heads = h.Texts().GroupBy(t => t.Name).ToDictionary(g => g.Key, g => g.First().Text, StringComparer.Ordinal);
        var result = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, text) in b.Texts())
        {
            if (!seen.Add(name))
                continue;
            if (!heads.TryGetValue(name, out var other))
                result.Add($"{name} (base only)");
            else if (other != text)
                result.Add($"{name} ({LineChanges(text, other)})");
        }
        foreach (var name in heads.Keys.Where(k => !seen.Contains(k)))
            result.Add($"{name} (head only)");
        return result;
    }

    private static string LineChanges(string a, string b)
    {
        var lines = UnifiedDiff.Lines(End(a), End(b), "a", "b", 0);
        int added = lines.Count(l => l.Kind == DiffLineKind.Added), removed = lines.Count(l => l.Kind == DiffLineKind.Removed);
        return $"+{added} -{removed} lines";

        static string End(string s) => s.Length == 0 || s.EndsWith('\n') ? s : s + "\n";
    }

    /// <summary>The table as text: the two combinations, then per checkpoint the 0-day columns (base, %change, head, metric).</summary>
    /// <summary>The checkpoints' tables alone, each headed by <c>checkpoint: NAME</c> after a blank line; the columns headed <paramref name="baseColumn"/> and <paramref name="headColumn"/>.</summary>
    public static string Sections(IReadOnlyList<CompareSection> sections, string baseColumn = "base", string headColumn = "head")
    {
        var sb = new StringBuilder();
        foreach (var s in sections)
        {
            sb.Append("\ncheckpoint: ").Append(s.Checkpoint).Append('\n');
            if (s.Rows.Count == 0 && s.OtherDifferences.Count == 0)
            {
                sb.Append("no difference\n");
                continue;
            }
            if (s.Rows.Count > 0)
            {
                sb.Append($"{baseColumn,16} {"%change",14} {headColumn,16}\n");
                sb.Append("---------------- -------------- ----------------\n");
                foreach (var r in s.Rows)
                    sb.Append($"{Value(r.Base),16} {Change(r),14} {Value(r.Head),16}  {r.Metric}\n");
            }
            if (s.OtherDifferences.Count > 0)
                sb.Append("also differs: ").Append(string.Join(", ", s.OtherDifferences)).Append('\n');
        }
        return sb.ToString();
    }

    public static string Render(string scenario, string baseLabel, string headLabel, IReadOnlyList<CompareSection> sections)
    {
        var sb = new StringBuilder();
        sb.Append("scenario: ").Append(scenario).Append('\n');
        sb.Append("base: ").Append(baseLabel).Append('\n');
        sb.Append("head: ").Append(headLabel).Append('\n');
        if (sections.All(s => s.Rows.Count == 0 && s.OtherDifferences.Count == 0))
        {
            sb.Append("\nno difference: base and head end in the same state\n");
            return TextRules.Normalize(sb.ToString());
        }
        sb.Append(Sections(sections));
        return TextRules.Normalize(sb.ToString());
    }

    private static string Value(double? v) => v is { } d ? d.ToString("0.##", CultureInfo.InvariantCulture) : "-";

    private static string Change(CompareRow r) => r.Kind switch
    {
        ChangeKind.Added => "(new)",
        ChangeKind.Removed => "(gone)",
        ChangeKind.Absolute => BisectRenderer.Signed(r.Delta),
        _ => (r.Percent > 0 ? "+" : "") + r.Percent.ToString("0.0", CultureInfo.InvariantCulture) + "%",
    };
}
