using System.Globalization;

namespace KernelMm.Harness.Snapshots;

/// <summary>One outcome of a snapshot file: its formula, how many combinations it covers, and its state text.</summary>
public sealed record SnapshotOutcome(int Index, string Formula, int Count, string State);

/// <summary>
/// A snapshot file read back (<see cref="SnapshotRenderer"/>'s layout): the header, then each
/// outcome. Its formulas are evaluated over the series to give each combination its state,
/// so two versions of a snapshot can be compared combination by combination.
/// </summary>
public sealed class SnapshotFile
{
    private SnapshotFile(string scenario, IReadOnlyList<string> series, IReadOnlyList<SnapshotOutcome> outcomes)
    {
        Scenario = scenario;
        Series = series;
        Outcomes = outcomes;
    }

    public string Scenario { get; }

    /// <summary>The patch ids, in series order (empty for "(no patches)").</summary>
    public IReadOnlyList<string> Series { get; }

    public IReadOnlyList<SnapshotOutcome> Outcomes { get; }

    public int CombinationCount => 1 << Series.Count;

    /// <summary>Reads a snapshot file, rebuilding each outcome's whole state; throws <see cref="FormatException"/> when its blocks do not resolve.</summary>
    public static SnapshotFile Parse(string text)
    {
        string scenario = "", series = "";
        var lines = text.Replace("\r\n", "\n").Split('\n');
        foreach (var line in lines)
        {
            if (line.StartsWith("## ", StringComparison.Ordinal))
                break;
            if (line.StartsWith("scenario: ", StringComparison.Ordinal))
                scenario = line[10..];
            else if (line.StartsWith("series: ", StringComparison.Ordinal))
                series = line[8..];
        }
        var ids = series is "" or "(no patches)" ? [] : series.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return new SnapshotFile(scenario, ids, SnapshotReader.Read(lines));
    }

    /// <summary>The state of every combination (index = mask), from the outcomes' formulas; null where no formula selects it (or one does not parse).</summary>
    public IReadOnlyList<string?> StatesByCombination()
    {
        var states = new string?[CombinationCount];
        foreach (var o in Outcomes)
            foreach (int c in Combinations(o.Formula) ?? [])
                states[c] ??= o.State;
        return states;
    }

    /// <summary>The combinations a formula selects (<c>all</c>, <c>none</c>, <c>a &amp; !b | c</c>); null when it names a patch the series lacks.</summary>
    public IReadOnlyList<int>? Combinations(string formula)
    {
        if (formula == "none")
            return [];
        var terms = new List<(int Care, int Value)>();
        if (formula != "all")
        {
            foreach (var term in formula.Split(" | "))
            {
                int care = 0, value = 0;
                foreach (var raw in term.Split(" & "))
                {
                    bool negated = raw.StartsWith('!');
                    int i = Series.ToList().IndexOf(negated ? raw[1..] : raw);
                    if (i < 0)
                        return null;
                    care |= 1 << i;
                    if (!negated)
                        value |= 1 << i;
                }
                terms.Add((care, value));
            }
        }
        else
        {
            terms.Add((0, 0));
        }
        return [.. Enumerable.Range(0, CombinationCount).Where(c => terms.Any(t => (c & t.Care) == t.Value))];
    }
}
