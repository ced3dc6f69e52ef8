using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using KernelMm.Harness.State;

namespace KernelMm.Harness.Snapshots;

/// <summary>
/// Rebuilds every outcome's whole state from a snapshot laid out by <see cref="SnapshotWriter"/>:
/// the shared part's units, each outcome's own blocks over them, references and hunks
/// resolved, units joined in the order a run prints them. Throws <see cref="FormatException"/>
/// (naming the line) where a block refers to nothing or its hunks do not fit.
/// </summary>
internal static partial class SnapshotReader
{
    private sealed record Block(BlockHeader Header, List<string> Lines, int LineNumber);

    private sealed class Part(int lineNumber)
    {
        public int LineNumber { get; } = lineNumber;

        /// <summary>The outcome (1-based) whose state this one's unlisted sections take, or null for the shared part's.</summary>
        public int? Base { get; set; }

        public List<(string Name, List<Block> Blocks)> Checkpoints { get; } = [];
    }

    public static IReadOnlyList<SnapshotOutcome> Read(IReadOnlyList<string> lines)
    {
        Part? shared = null;
        var outcomes = new List<((int Index, string Formula, int Count) Head, Part Part)>();
        Part? current = null;
        for (int n = 0; n < lines.Count; n++)
        {
            string line = lines[n];
            var m = OutcomeHeader().Match(line);
            if (m.Success)
            {
                current = new Part(n + 1);
                outcomes.Add(((int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), m.Groups[2].Value,
                    int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture)), current));
            }
            else if (line == SnapshotWriter.SharedHeader)
            {
                current = shared = new Part(n + 1);
            }
            else if (current is null || line.Length == 0 || line == SnapshotWriter.NothingElse)
            {
                continue;
            }
            else if (current.Checkpoints.Count == 0 && current != shared && BaseLine().Match(line) is { Success: true } b)
            {
                current.Base = int.Parse(b.Groups[1].Value, CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith(StateLayout.CheckpointHeader, StringComparison.Ordinal))
            {
                current.Checkpoints.Add((line[StateLayout.CheckpointHeader.Length..], []));
            }
            else if (current.Checkpoints.Count == 0)
            {
                throw new FormatException($"line {n + 1}: '{line}' before any checkpoint");
            }
            else if (BlockHeader.Parse(line) is { } header)
            {
                current.Checkpoints[^1].Blocks.Add(new Block(header, [], n + 1));
            }
            else if (current.Checkpoints[^1].Blocks.Count == 0)
            {
                throw new FormatException($"line {n + 1}: '{line}' before any section of its checkpoint");
            }
            else
            {
                current.Checkpoints[^1].Blocks[^1].Lines.Add(line);
            }
        }

        var sharedUnits = new List<(string Name, Dictionary<string, IReadOnlyList<string>> Units)>();
        if (shared is not null)
        {
            foreach (var (name, blocks) in shared.Checkpoints)
            {
                var units = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
                foreach (var b in blocks)
                    units[b.Header.Key] = Resolve(b, name, units, null, sharedUnits, []);
                sharedUnits.Add((name, units));
            }
        }

        var resolved = new List<List<(string Name, Dictionary<string, IReadOnlyList<string>> Units)>>();
        var result = new List<SnapshotOutcome>();
        foreach (var (head, part) in outcomes)
        {
            var mine = new List<(string Name, Dictionary<string, IReadOnlyList<string>> Units)>();
            List<(string Name, Dictionary<string, IReadOnlyList<string>> Units)>? basis = null;
            if (part.Base is int from)
                basis = from >= 1 && from <= resolved.Count ? resolved[from - 1]
                    : throw new FormatException($"line {part.LineNumber}: outcome {head.Index} takes its unlisted sections from outcome {from}, which is not an earlier one");
            var names = basis is not null ? basis.Select(c => c.Name).ToList()
                : shared is not null ? sharedUnits.Select(s => s.Name).ToList() : part.Checkpoints.Select(c => c.Name).ToList();
            int k = 0;
            var sb = new StringBuilder();
            for (int i = 0; i < names.Count; i++)
            {
                var units = basis is not null ? new Dictionary<string, IReadOnlyList<string>>(basis[i].Units, StringComparer.Ordinal)
                    : shared is not null ? new Dictionary<string, IReadOnlyList<string>>(sharedUnits[i].Units, StringComparer.Ordinal)
                    : new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
                if (k < part.Checkpoints.Count && part.Checkpoints[k].Name == names[i])
                {
                    foreach (var b in part.Checkpoints[k].Blocks)
                        units[b.Header.Key] = Resolve(b, names[i], units, shared is not null ? sharedUnits[i].Units : null, mine, resolved);
                    k++;
                }
                mine.Add((names[i], units));
                sb.Append(StateLayout.Join(names[i], units.Select(u => new StateUnit(u.Key, u.Value))));
            }
            if (k < part.Checkpoints.Count)
                throw new FormatException($"line {part.LineNumber}: outcome {head.Index} has checkpoint '{part.Checkpoints[k].Name}', which {(basis is not null ? $"outcome {part.Base}" : "the shared part")} has not (in this order)");
            resolved.Add(mine);
            result.Add(new SnapshotOutcome(head.Index, head.Formula, head.Count, sb.ToString()));
        }
        return result;
    }

    private static IReadOnlyList<string> Resolve(Block b, string checkpoint, Dictionary<string, IReadOnlyList<string>> here,
        Dictionary<string, IReadOnlyList<string>>? sharedHere,
        List<(string Name, Dictionary<string, IReadOnlyList<string>> Units)> earlier,
        List<List<(string Name, Dictionary<string, IReadOnlyList<string>> Units)>> outcomes)
    {
        var h = b.Header;
        IReadOnlyList<string> Fail(string why) => throw new FormatException($"line {b.LineNumber}: {h}: {why}");
        IReadOnlyList<string>? basis = h.Kind switch
        {
            BlockKind.Full => null,
            BlockKind.SharedLines when h.Target is null => null,
            BlockKind.SharedLinesAnd => sharedHere?.GetValueOrDefault(h.Key) ?? Fail("the shared part has no such section here"),
            BlockKind.AsAtCheckpoint or BlockKind.SharedLines => earlier.LastOrDefault(c => c.Name == h.Target).Units?.GetValueOrDefault(h.Key)
                ?? Fail("no earlier checkpoint of that name has this section"),
            BlockKind.AsInOutcome => int.TryParse(h.Target, CultureInfo.InvariantCulture, out int o) && o >= 1 && o <= outcomes.Count
                && outcomes[o - 1].FirstOrDefault(c => c.Name == checkpoint).Units?.GetValueOrDefault(h.Key) is { } theirs
                    ? theirs : Fail("no earlier outcome of that number has this section here"),
            _ => here.GetValueOrDefault(h.Target!) ?? Fail("no such process earlier in this checkpoint"),
        };
        if (basis is null)
            return b.Lines;
        if (!h.HasHunks)
            return b.Lines.Count == 0 ? basis : Fail("a reference has no lines of its own");
        try
        {
            return h.Kind == BlockKind.SharedLinesAnd ? LineDiff.Apply(basis, b.Lines) : UnitDiff.Apply(basis, b.Lines);
        }
        catch (FormatException e)
        {
            return Fail(e.Message);
        }
    }

    [GeneratedRegex(@"^## outcome (\d+) of \d+: (.*) \((\d+) combinations?\)$")]
    internal static partial Regex OutcomeHeader();

    [GeneratedRegex(@"^\(sections not listed here are as in outcome (\d+)\)$")]
    private static partial Regex BaseLine();
}
