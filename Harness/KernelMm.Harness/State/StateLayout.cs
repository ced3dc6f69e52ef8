using System.Globalization;
using System.Text;

namespace KernelMm.Harness.State;

/// <summary>A checkpoint of one combination's state, as units in the order the state prints them.</summary>
public sealed record CheckpointUnits(string Name, IReadOnlyList<StateUnit> Units);

/// <summary>
/// Splits one combination's state (the checkpoints <see cref="StateCapture"/> renders) into
/// checkpoints of units, and joins units back into that text. Units have one canonical order
/// (the sections in <see cref="StateCapture.SectionOrder"/>, each process after the processes
/// header, by pid), so units taken from different parts of a snapshot go back together the
/// way the run printed them.
/// </summary>
public static class StateLayout
{
    public const string CheckpointHeader = "### checkpoint: ";

    public static IReadOnlyList<CheckpointUnits> Split(string state)
    {
        var result = new List<(string Name, List<StateUnit> Units)>();
        string? key = null;
        var lines = new List<string>();
        void Flush()
        {
            if (key is not null)
                result[^1].Units.Add(new StateUnit(key, lines));
            key = null;
            lines = [];
        }
        foreach (var line in Lines(state))
        {
            if (line.StartsWith(CheckpointHeader, StringComparison.Ordinal))
            {
                Flush();
                result.Add((line[CheckpointHeader.Length..], []));
            }
            else if (UnitKey(line) is { } k && result.Count > 0)
            {
                Flush();
                key = k;
            }
            else if (key is not null)
            {
                lines.Add(line);
            }
            else if (line.Length > 0)
            {
                throw new FormatException($"state line outside any section: '{line}'");
            }
        }
        Flush();
        return [.. result.Select(c => new CheckpointUnits(c.Name, c.Units))];
    }

    /// <summary>A checkpoint's text: its header, then its units in canonical order.</summary>
    public static string Join(string name, IEnumerable<StateUnit> units)
    {
        var sb = new StringBuilder();
        sb.Append(CheckpointHeader).Append(name).Append('\n');
        foreach (var u in units.OrderBy(u => u, UnitOrder.Instance))
        {
            sb.Append(u.Header).Append('\n');
            foreach (var l in u.Lines)
                sb.Append(l).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>The key of a unit header line (<c>#### vmstat</c>, <c>##### process 3 (w)</c>); null for any other line.</summary>
    public static string? UnitKey(string line)
    {
        if (line.StartsWith("##### ", StringComparison.Ordinal))
            return StateUnit.IsProcessKey(line[6..]) ? line[6..] : null;
        return line.StartsWith("#### ", StringComparison.Ordinal) ? line[5..] : null;
    }

    /// <summary>Sections in <see cref="StateCapture.SectionOrder"/>, each process right after the processes header, by pid.</summary>
    public sealed class UnitOrder : IComparer<StateUnit>
    {
        public static UnitOrder Instance { get; } = new();

        public int Compare(StateUnit? x, StateUnit? y) => Rank(x!.Key).CompareTo(Rank(y!.Key));

        public static (int Section, long Pid) Rank(string key)
        {
            if (StateUnit.IsProcessKey(key))
            {
                int end = key.IndexOf(' ', 8);
                return (SectionIndex("processes"), 1 + long.Parse(key[8..(end < 0 ? key.Length : end)], CultureInfo.InvariantCulture));
            }
            return (SectionIndex(key), 0);
        }

        private static int SectionIndex(string section)
        {
            int i = Array.IndexOf(StateCapture.SectionOrder, section);
            return i >= 0 ? i : throw new FormatException($"unknown state section '{section}' (StateCapture.SectionOrder lists them)");
        }
    }

    private static IEnumerable<string> Lines(string s)
    {
        var parts = s.Split('\n');
        return s.EndsWith('\n') ? parts[..^1] : parts;
    }
}
