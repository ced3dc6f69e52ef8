using System.Text;
using KernelMm.Harness.Outcomes;
using KernelMm.Harness.State;

namespace KernelMm.Harness.Snapshots;

/// <summary>
/// Lays out a snapshot's outcomes so that each thing is printed once: a shared part with the
/// units every outcome has alike (and, of a unit they all have but differently, the lines
/// they share), then per outcome only what differs. A unit that repeats one printed before
/// (at an earlier checkpoint, in an earlier outcome, an earlier process of the checkpoint)
/// is a reference to it, or the lines that differ from it where those are at most half the
/// unit. <see cref="SnapshotReader"/> rebuilds every outcome's whole state from it.
/// </summary>
internal static class SnapshotWriter
{
    public const string SharedHeader = "## shared by all outcomes";

    /// <summary>What an outcome says when the shared part is the whole of its state.</summary>
    public const string NothingElse = "(nothing beyond the shared part)";

    private sealed record Candidate(BlockKind Kind, string? Target, IReadOnlyList<string> Lines);

    public static void Write(StringBuilder sb, IReadOnlyList<Outcome> outcomes)
    {
        var states = outcomes.Select(o => StateLayout.Split(o.State)).ToList();
        var byKey = states.Select(s => s.Select(c => c.Units.ToDictionary(u => u.Key, StringComparer.Ordinal)).ToList()).ToList();
        var names = states[0].Select(c => c.Name).ToList();
        bool shared = states.Count > 1 && states.All(s => s.Select(c => c.Name).SequenceEqual(names, StringComparer.Ordinal));

        // Per checkpoint of the shared part: what it says of each unit, and whether that is the whole unit.
        var sharedUnits = new List<Dictionary<string, (IReadOnlyList<string> Lines, bool Partial)>>();
        if (shared)
        {
            sb.Append('\n').Append(SharedHeader).Append('\n');
            for (int i = 0; i < names.Count; i++)
            {
                var here = new Dictionary<string, (IReadOnlyList<string> Lines, bool Partial)>(StringComparer.Ordinal);
                sharedUnits.Add(here);
                sb.Append(StateLayout.CheckpointHeader).Append(names[i]).Append('\n');
                StateUnit? previousProcess = null;
                foreach (var u in states[0][i].Units)
                {
                    var all = byKey.Select(o => o[i].GetValueOrDefault(u.Key)).ToList();
                    if (all.Any(x => x is null))
                        continue;
                    if (all.All(x => x!.SameLines(u)))
                    {
                        here[u.Key] = (u.Lines, false);
                        var candidates = new List<Candidate>();
                        for (int j = i - 1; j >= 0; j--)
                            if (sharedUnits[j].TryGetValue(u.Key, out var s) && !s.Partial)
                                candidates.Add(new Candidate(BlockKind.AsAtCheckpoint, names[j], s.Lines));
                        if (u.IsProcess && previousProcess is not null)
                            candidates.Add(new Candidate(BlockKind.AsProcess, previousProcess.Key, previousProcess.Lines));
                        Emit(sb, u, candidates);
                        if (u.IsProcess)
                            previousProcess = u;
                        continue;
                    }
                    var common = all.Skip(1).Aggregate((IReadOnlyList<string>)u.Lines, (c, x) => LineDiff.Common(c, x!.Lines));
                    if (common.Count > 0 && common.Count * 2 >= all.Max(x => x!.Lines.Count))
                    {
                        here[u.Key] = (common, true);
                        sb.Append(new BlockHeader(u.Key, BlockKind.SharedLines)).Append('\n');
                        AppendLines(sb, common);
                    }
                }
            }
        }

        for (int o = 0; o < outcomes.Count; o++)
        {
            var outcome = outcomes[o];
            sb.Append('\n').Append("## outcome ").Append(o + 1).Append(" of ").Append(outcomes.Count).Append(": ").Append(outcome.Formula)
              .Append(" (").Append(SnapshotRenderer.Plural(outcome.Combinations.Count, "combination")).Append(")\n");
            int start = sb.Length;
            for (int i = 0; i < states[o].Count; i++)
            {
                var cp = states[o][i];
                var blocks = new StringBuilder();
                StateUnit? previousProcess = null;
                foreach (var u in cp.Units)
                {
                    var candidates = new List<Candidate>();
                    if (shared && sharedUnits[i].TryGetValue(u.Key, out var s))
                    {
                        if (!s.Partial || s.Lines.SequenceEqual(u.Lines, StringComparer.Ordinal))
                            goto next;
                        candidates.Add(new Candidate(BlockKind.SharedLinesAnd, null, s.Lines));
                    }
                    for (int j = i - 1; j >= 0; j--)
                        if (byKey[o][j].TryGetValue(u.Key, out var earlier))
                            candidates.Add(new Candidate(BlockKind.AsAtCheckpoint, states[o][j].Name, earlier.Lines));
                    for (int p = 0; p < o; p++)
                        if (states[p].FirstOrDefault(c => c.Name == cp.Name) is { } same
                            && same.Units.FirstOrDefault(x => x.Key == u.Key) is { } theirs)
                            candidates.Add(new Candidate(BlockKind.AsInOutcome, (p + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), theirs.Lines));
                    if (u.IsProcess && previousProcess is not null)
                        candidates.Add(new Candidate(BlockKind.AsProcess, previousProcess.Key, previousProcess.Lines));
                    Emit(blocks, u, candidates);
                next:
                    if (u.IsProcess)
                        previousProcess = u;
                }
                if (blocks.Length > 0 || !shared)
                    sb.Append(StateLayout.CheckpointHeader).Append(cp.Name).Append('\n').Append(blocks);
            }
            if (sb.Length == start)
                sb.Append(NothingElse).Append('\n');
        }
    }

    // The shortest readable form: a reference to an equal unit, else the lines that differ from
    // the unit closest to it (when at most half as many as its own), else the unit whole.
    private static void Emit(StringBuilder sb, StateUnit u, List<Candidate> candidates)
    {
        if (u.Lines.Count == 0)
            candidates = [];
        foreach (var c in candidates)
            if (c.Kind != BlockKind.SharedLinesAnd && c.Lines.SequenceEqual(u.Lines, StringComparer.Ordinal))
            {
                sb.Append(new BlockHeader(u.Key, c.Kind, c.Target)).Append('\n');
                return;
            }
        BlockHeader best = new(u.Key, BlockKind.Full);
        IReadOnlyList<string> bestLines = u.Lines;
        // Diff only against the nearest earlier checkpoint (the first listed), every earlier outcome and the previous process.
        bool checkpointTried = false;
        foreach (var c in candidates)
        {
            if (c.Kind == BlockKind.AsAtCheckpoint)
            {
                if (checkpointTried)
                    continue;
                checkpointTried = true;
            }
            var hunks = LineDiff.Hunks(c.Lines, u.Lines);
            bool readable = c.Kind == BlockKind.SharedLinesAnd || hunks.Count * 2 <= u.Lines.Count;
            if (readable && hunks.Count < bestLines.Count)
            {
                best = new BlockHeader(u.Key, c.Kind, c.Target, Except: c.Kind != BlockKind.SharedLinesAnd);
                bestLines = hunks;
            }
        }
        sb.Append(best).Append('\n');
        AppendLines(sb, bestLines);
    }

    private static void AppendLines(StringBuilder sb, IEnumerable<string> lines)
    {
        foreach (var l in lines)
            sb.Append(l).Append('\n');
    }
}
