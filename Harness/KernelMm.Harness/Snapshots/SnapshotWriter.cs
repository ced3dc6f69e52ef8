using System.Globalization;
using System.Text;
using KernelMm.Harness.Outcomes;
using KernelMm.Harness.State;

namespace KernelMm.Harness.Snapshots;

/// <summary>
/// Lays out a snapshot's outcomes so that each thing is printed once: a shared part with the
/// units every outcome has alike (and, of a unit they all have but differently, the lines
/// they share), then per outcome only what differs, from the shared part or from an earlier
/// outcome it is closest to (<see cref="BaseLine"/>). A unit that repeats one printed before
/// (at an earlier checkpoint, in an earlier outcome, an earlier process of the checkpoint)
/// is a reference to it, or the lines that differ from it (<see cref="UnitDiff"/>) where those
/// are at most <see cref="MostOfWhole"/> of the unit. <see cref="SnapshotReader"/> rebuilds
/// every outcome's whole state from it.
/// </summary>
internal static class SnapshotWriter
{
    public const string SharedHeader = "## shared by all outcomes";

    /// <summary>What an outcome says when the shared part is the whole of its state.</summary>
    public const string NothingElse = "(nothing beyond the shared part)";

    /// <summary>The line under an outcome's heading that makes an earlier outcome, not the shared part, what its unlisted sections are.</summary>
    public static string BaseLine(int outcome) => $"(sections not listed here are as in outcome {outcome})";

    /// <summary>
    /// A unit is printed as what differs from another only when that is at most two thirds of its
    /// lines: beyond that the differences are most of it, and it reads better whole.
    /// </summary>
    private const double MostOfWhole = 2.0 / 3;

    /// <summary>
    /// A unit printed before that a block may refer to: how its header names it, its lines as the
    /// reader has them, and whether it was printed there (not itself a reference), so that a
    /// reference names the place that shows the lines.
    /// </summary>
    private sealed record Candidate(BlockKind Kind, string? Target, IReadOnlyList<string> Lines, bool Printed);

    private sealed class Layout(IReadOnlyList<Outcome> outcomes)
    {
        public IReadOnlyList<Outcome> Outcomes { get; } = outcomes;
        public List<IReadOnlyList<CheckpointUnits>> States { get; } = [.. outcomes.Select(o => StateLayout.Split(o.State))];
        public List<List<Dictionary<string, StateUnit>>> ByKey { get; } = [];
        public List<string> Names { get; } = [];
        public bool Shared { get; set; }

        /// <summary>Per checkpoint of the shared part: what it says of each unit, whether that is the whole unit, and whether it was printed there.</summary>
        public List<Dictionary<string, (IReadOnlyList<string> Lines, bool Partial, bool Printed)>> SharedUnits { get; } = [];

        /// <summary>Per outcome and checkpoint, the units whose lines the outcome's part printed (not a reference, not left to its default).</summary>
        public List<List<HashSet<string>>> Printed { get; } = [];
    }

    public static void Write(StringBuilder sb, IReadOnlyList<Outcome> outcomes)
    {
        var layout = new Layout(outcomes);
        layout.ByKey.AddRange(layout.States.Select(s => s.Select(c => c.Units.ToDictionary(u => u.Key, StringComparer.Ordinal)).ToList()));
        layout.Names.AddRange(layout.States[0].Select(c => c.Name));
        layout.Shared = layout.States.Count > 1 && layout.States.All(s => s.Select(c => c.Name).SequenceEqual(layout.Names, StringComparer.Ordinal));
        if (layout.Shared)
            WriteShared(sb, layout);

        for (int o = 0; o < outcomes.Count; o++)
        {
            // The shared part, or the earlier outcome from which the fewest lines say this one.
            var (text, printed) = WriteOutcome(layout, o, null);
            for (int b = 0; b < o; b++)
                if (CanBase(layout, o, b) && WriteOutcome(layout, o, b) is var other && LineCount(other.Text) < LineCount(text))
                    (text, printed) = other;
            layout.Printed.Add(printed);
            sb.Append(text);
        }
    }

    private static void WriteShared(StringBuilder sb, Layout layout)
    {
        var names = layout.Names;
        sb.Append('\n').Append(SharedHeader).Append('\n');
        for (int i = 0; i < names.Count; i++)
        {
            var here = new Dictionary<string, (IReadOnlyList<string> Lines, bool Partial, bool Printed)>(StringComparer.Ordinal);
            layout.SharedUnits.Add(here);
            sb.Append(StateLayout.CheckpointHeader).Append(names[i]).Append('\n');
            foreach (var u in layout.States[0][i].Units)
            {
                var all = layout.ByKey.Select(o => o[i].GetValueOrDefault(u.Key)).ToList();
                if (all.Any(x => x is null))
                    continue;
                bool alike = all.All(x => x!.SameLines(u));
                var lines = alike ? u.Lines : all.Skip(1).Aggregate((IReadOnlyList<string>)u.Lines, (c, x) => LineDiff.Common(c, x!.Lines));
                if (!alike && (lines.Count == 0 || lines.Count * 2 < all.Max(x => x!.Lines.Count)))
                    continue;
                var candidates = new List<Candidate>();
                for (int j = i - 1; j >= 0; j--)
                    if (layout.SharedUnits[j].TryGetValue(u.Key, out var s))
                        candidates.Add(new Candidate(alike ? BlockKind.AsAtCheckpoint : BlockKind.SharedLines, names[j], s.Lines, s.Printed));
                if (alike && u.IsProcess)
                    candidates.AddRange(EarlierProcesses(here.Select(h => (h.Key, h.Value.Lines, h.Value.Printed))));
                bool printed = Emit(sb, new BlockHeader(u.Key, alike ? BlockKind.Full : BlockKind.SharedLines), lines, candidates);
                here[u.Key] = (lines, !alike, printed);
            }
        }
    }

    // An earlier outcome can stand for this one's unlisted sections when it reaches the same
    // checkpoints and has no unit this one lacks.
    private static bool CanBase(Layout layout, int o, int b) =>
        layout.States[b].Select(c => c.Name).SequenceEqual(layout.States[o].Select(c => c.Name), StringComparer.Ordinal)
        && layout.ByKey[b].Zip(layout.ByKey[o]).All(p => p.First.Keys.All(p.Second.ContainsKey));

    private static (string Text, List<HashSet<string>> Printed) WriteOutcome(Layout layout, int o, int? basis)
    {
        var sb = new StringBuilder();
        var outcome = layout.Outcomes[o];
        var states = layout.States;
        bool shared = layout.Shared;
        sb.Append('\n').Append("## outcome ").Append(o + 1).Append(" of ").Append(layout.Outcomes.Count).Append(": ").Append(outcome.Formula)
          .Append(" (").Append(SnapshotRenderer.Plural(outcome.Combinations.Count, "combination")).Append(")\n");
        if (basis is int bl)
            sb.Append(BaseLine(bl + 1)).Append('\n');
        int start = sb.Length;
        var printedHere = new List<HashSet<string>>();
        for (int i = 0; i < states[o].Count; i++)
        {
            var cp = states[o][i];
            var blocks = new StringBuilder();
            var printed = new HashSet<string>(StringComparer.Ordinal);
            printedHere.Add(printed);
            var seen = new List<(string Key, IReadOnlyList<string> Lines, bool Printed)>();
            foreach (var u in cp.Units)
            {
                var candidates = new List<Candidate>();
                var s = shared && layout.SharedUnits[i].TryGetValue(u.Key, out var su) ? su : default;
                IReadOnlyList<string>? fallback = basis is int b ? layout.ByKey[b][i][u.Key].Lines
                    : s.Lines is not null ? s.Lines : null;
                if (basis is int b2 && !layout.ByKey[b2][i].ContainsKey(u.Key))
                    fallback = null;
                if (fallback is not null && fallback.SequenceEqual(u.Lines, StringComparer.Ordinal))
                {
                    seen.Add((u.Key, u.Lines, false));
                    continue;
                }
                if (s.Lines is not null && s.Partial)
                    candidates.Add(new Candidate(BlockKind.SharedLinesAnd, null, s.Lines, true));
                for (int j = i - 1; j >= 0; j--)
                    if (layout.ByKey[o][j].TryGetValue(u.Key, out var earlier))
                        candidates.Add(new Candidate(BlockKind.AsAtCheckpoint, states[o][j].Name, earlier.Lines, printedHere[j].Contains(u.Key)));
                for (int p = 0; p < o; p++)
                    if (states[p].FirstOrDefault(c => c.Name == cp.Name) is { } same
                        && same.Units.FirstOrDefault(x => x.Key == u.Key) is { } theirs)
                        candidates.Add(new Candidate(BlockKind.AsInOutcome, (p + 1).ToString(CultureInfo.InvariantCulture), theirs.Lines,
                            layout.Printed[p][states[p].ToList().IndexOf(same)].Contains(u.Key)));
                if (u.IsProcess)
                    candidates.AddRange(EarlierProcesses(seen));
                bool own = Emit(blocks, new BlockHeader(u.Key, BlockKind.Full), u.Lines, candidates);
                if (own)
                    printed.Add(u.Key);
                seen.Add((u.Key, u.Lines, own));
            }
            if (blocks.Length > 0 || !shared && basis is null)
                sb.Append(StateLayout.CheckpointHeader).Append(cp.Name).Append('\n').Append(blocks);
        }
        if (sb.Length == start)
            sb.Append(NothingElse).Append('\n');
        return (sb.ToString(), printedHere);
    }

    // The processes of the checkpoint printed before this one, the nearest first.
    private static List<Candidate> EarlierProcesses(IEnumerable<(string Key, IReadOnlyList<string> Lines, bool Printed)> before) =>
        [.. before.Where(b => StateUnit.IsProcessKey(b.Key)).Reverse().Select(b => new Candidate(BlockKind.AsProcess, b.Key, b.Lines, b.Printed))];

    // The shortest readable form: a reference to an equal unit (one printed there, if any is),
    // else the lines that differ from the unit closest to it (when at most MostOfWhole of its
    // own), else the unit whole. Returns whether the block printed lines of its own.
    private static bool Emit(StringBuilder sb, BlockHeader whole, IReadOnlyList<string> lines, List<Candidate> candidates)
    {
        if (lines.Count == 0)
            candidates = [];
        var equal = candidates.Where(c => c.Kind != BlockKind.SharedLinesAnd && c.Lines.SequenceEqual(lines, StringComparer.Ordinal)).ToList();
        if ((equal.FirstOrDefault(c => c.Printed) ?? equal.FirstOrDefault()) is { } same)
        {
            sb.Append(whole with { Kind = same.Kind, Target = same.Target }).Append('\n');
            return false;
        }
        BlockHeader best = whole;
        IReadOnlyList<string> bestLines = lines;
        foreach (var c in candidates)
        {
            // The outcome's own lines of a unit the outcomes share in part are additions to the shared lines.
            var diff = c.Kind == BlockKind.SharedLinesAnd ? LineDiff.Hunks(c.Lines, lines, removed: false) : UnitDiff.Diff(c.Lines, lines);
            bool readable = c.Kind == BlockKind.SharedLinesAnd || diff.Count <= lines.Count * MostOfWhole;
            if (readable && diff.Count < bestLines.Count)
            {
                best = whole with { Kind = c.Kind, Target = c.Target, Except = c.Kind != BlockKind.SharedLinesAnd };
                bestLines = diff;
            }
        }
        sb.Append(best).Append('\n');
        foreach (var l in bestLines)
            sb.Append(l).Append('\n');
        return true;
    }

    private static int LineCount(string text) => text.Count(c => c == '\n');
}
