using System.Text;
using KernelMm.Harness.Compare;
using KernelMm.Harness.Outcomes;
using KernelMm.Harness.Snapshots;

namespace KernelMm.Harness.Review;

/// <summary>How a scenario's snapshot changed.</summary>
public enum ChangeStatus { Changed, Added, Removed }

/// <summary>One outcome of the new snapshot, and how many of its combinations changed state.</summary>
/// <param name="Index">Its number in the new snapshot.</param>
/// <param name="Formula">Its formula.</param>
/// <param name="Combinations">Combinations it covers.</param>
/// <param name="Changed">Of those, how many ended in a different state before.</param>
/// <param name="IsNew">No outcome of the old snapshot had this formula.</param>
/// <param name="Example">The first of its combinations whose state changed (<c>none</c>, <c>a,b</c>), when the series stayed the same.</param>
/// <param name="Before">That combination's whole state before (null when it had none: a new snapshot).</param>
/// <param name="After">Its whole state now.</param>
public sealed record OutcomeChange(int Index, string Formula, int Combinations, int Changed, bool IsNew,
    string? Example = null, string? Before = null, string? After = null);

/// <summary>One scenario whose snapshot changed: which outcomes and combinations, and the diff.</summary>
/// <param name="Id">The scenario id.</param>
/// <param name="Status">Changed, added or removed.</param>
/// <param name="OldOutcomes">Outcomes before (0 when added).</param>
/// <param name="NewOutcomes">Outcomes after (0 when removed).</param>
/// <param name="Combinations">Combinations of the (new) series.</param>
/// <param name="ChangedCombinations">Combinations whose state changed (all of them when the series changed).</param>
/// <param name="ChangedFormula">The smallest formula selecting them (null when the series changed).</param>
/// <param name="SeriesChange">"old ids -> new ids" when the series itself changed.</param>
/// <param name="Outcomes">The new snapshot's outcomes, with what changed in each.</param>
/// <param name="Gone">Formulas of old outcomes that are no outcome any more.</param>
/// <param name="Diff">The unified diff, old to new.</param>
/// <param name="Path">The verified snapshot's path from the repository root, as a command names it.</param>
public sealed record ScenarioChange(string Id, ChangeStatus Status, int OldOutcomes, int NewOutcomes, int Combinations,
    IReadOnlyList<int> ChangedCombinations, string? ChangedFormula, string? SeriesChange, IReadOnlyList<OutcomeChange> Outcomes,
    IReadOnlyList<string> Gone, string Diff, string Path);

/// <summary>
/// <c>kmm report</c>: for every scenario whose snapshot changed, which outcomes changed and for
/// which combinations (read from the outcome formulas of both versions, combination by
/// combination), and the diff; a summary table first. The markdown is sized for a pull-request
/// comment: each diff is cut at <c>maxDiffLines</c>, and diffs stop once the comment nears
/// <c>maxChars</c> (GitHub takes 65,536).
/// </summary>
public static class ReviewReport
{
    public static ScenarioChange Analyze(SnapshotPair pair)
    {
        string diff = UnifiedDiff.Render(pair.Old ?? "", pair.New ?? "", pair.Old is null ? "/dev/null" : pair.OldName, pair.New is null ? "/dev/null" : pair.NewName,
            where: SnapshotLocation.Describe);
        var oldFile = pair.Old is null ? null : SnapshotFile.Parse(pair.Old);
        var newFile = pair.New is null ? null : SnapshotFile.Parse(pair.New);
        if (newFile is null)
            return new ScenarioChange(pair.Id, ChangeStatus.Removed, oldFile!.Outcomes.Count, 0, oldFile.CombinationCount, [], null, null, [],
                [.. oldFile.Outcomes.Select(o => o.Formula)], diff, pair.Path);
        if (oldFile is null)
            return new ScenarioChange(pair.Id, ChangeStatus.Added, 0, newFile.Outcomes.Count, newFile.CombinationCount,
                [.. Enumerable.Range(0, newFile.CombinationCount)], null, null,
                [.. newFile.Outcomes.Select(o => new OutcomeChange(o.Index, o.Formula, o.Count, o.Count, true))], [], diff, pair.Path);

        int size = newFile.CombinationCount;
        bool sameSeries = oldFile.Series.SequenceEqual(newFile.Series);
        var oldStates = oldFile.StatesByCombination();
        var newStates = newFile.StatesByCombination();
        var changed = sameSeries
            ? Enumerable.Range(0, size).Where(c => oldStates[c] != newStates[c]).ToList()
            : [.. Enumerable.Range(0, size)];
        var changedSet = changed.ToHashSet();
        var oldFormulas = oldFile.Outcomes.Select(o => o.Formula).ToHashSet(StringComparer.Ordinal);
        var outcomes = newFile.Outcomes.Select(o =>
        {
            var combos = newFile.Combinations(o.Formula) ?? [];
            int first = combos.FirstOrDefault(changedSet.Contains, -1);
            return new OutcomeChange(o.Index, o.Formula, o.Count, combos.Count(changedSet.Contains), !oldFormulas.Contains(o.Formula),
                sameSeries && first >= 0 ? Label(first, newFile.Series) : null,
                sameSeries && first >= 0 ? oldStates[first] : null,
                sameSeries && first >= 0 ? newStates[first] : null);
        }).ToList();
        var gone = oldFile.Outcomes.Select(o => o.Formula).Where(f => newFile.Outcomes.All(o => o.Formula != f)).ToList();
        string? formula = sameSeries && changed.Count > 0 ? Formula.For(changed, newFile.Series) : null;
        string? seriesChange = sameSeries ? null : $"{Ids(oldFile.Series)} -> {Ids(newFile.Series)}";
        return new ScenarioChange(pair.Id, ChangeStatus.Changed, oldFile.Outcomes.Count, newFile.Outcomes.Count, size, changed, formula,
            seriesChange, outcomes, gone, diff, pair.Path);

        static string Ids(IReadOnlyList<string> ids) => ids.Count == 0 ? "(no patches)" : string.Join(' ', ids);
    }

    /// <summary>
    /// The command that reports one scenario of this comparison whole: the same comparison (received
    /// against verified, or <c>--against</c> the same revision) of that snapshot only (its path names
    /// its series' folder, so an upstream one is not mistaken for the posted one), with every line
    /// of a diff of <paramref name="diffLines"/> lines.
    /// </summary>
    public static string Command(SnapshotComparison comparison, string path, int? diffLines = null) =>
        "kmm report" + (comparison.Against is { } rev ? " --against " + Quote(rev) : "") + " " + Quote(path)
        + (diffLines is int n && n > DefaultMaxDiffLines ? $" --max-diff-lines {n}" : "");

    /// <summary>Lines of each diff a report shows unless told otherwise.</summary>
    public const int DefaultMaxDiffLines = 60;

    /// <summary>
    /// The command that shows a snapshot file's own diff whole: <c>kmm diff</c> of its received file, or
    /// against a revision <c>git diff</c> of the working tree's file.
    /// </summary>
    public static string FileDiffCommand(string? against, string path) =>
        against is null ? "kmm diff " + Quote(path) : $"git diff {Quote(against)} -- {Quote(path)}";

    // POSIX sh quoting, only where a word needs it.
    private static string Quote(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || "-_./:@^~+=,".Contains(c)) ? word : "'" + word.Replace("'", "'\\''") + "'";

    /// <summary>A combination as <c>--patches</c> takes it: <c>none</c>, or its patch ids joined by commas.</summary>
    public static string Label(int mask, IReadOnlyList<string> ids) =>
        mask == 0 ? "none" : string.Join(',', ids.Where((_, i) => (mask & (1 << i)) != 0));

    /// <summary>The numbers that moved between an outcome's state before and after, as <c>kmm compare</c> prints them (old, %change, new).</summary>
    public static string MovedNumbers(OutcomeChange o) =>
        o.Before is null || o.After is null ? "" : CompareTable.Sections(CompareTable.Build(o.Before, o.After), "old", "new").TrimStart('\n');

    /// <summary>The diff of an outcome's whole state (of its first changed combination), each hunk naming its checkpoint and section.</summary>
    public static string StateDiff(string id, OutcomeChange o) =>
        UnifiedDiff.Render(o.Before ?? "", o.After ?? "", $"a/{id} [patches: {o.Example}]", $"b/{id} [patches: {o.Example}]", context: 1,
            where: SnapshotLocation.Describe);

    /// <summary>The report in GitHub markdown.</summary>
    /// <param name="comparison">What was compared.</param>
    /// <param name="maxDiffLines">Lines of each diff shown.</param>
    /// <param name="maxChars">Diffs stop once the report reaches this size.</param>
    public static string Markdown(SnapshotComparison comparison, int maxDiffLines = DefaultMaxDiffLines, int maxChars = 60_000)
    {
        var changes = comparison.Pairs.Select(Analyze).ToList();
        var sb = new StringBuilder();
        sb.Append("## kmm snapshot report\n\n");
        sb.Append("Compared ").Append(comparison.Description).Append(": ");
        if (changes.Count == 0)
        {
            sb.Append(comparison.Compared == 0 ? "nothing to compare.\n" : $"no snapshot changed ({Plural(comparison.Compared, "scenario")}).\n");
            return sb.ToString();
        }
        sb.Append(Plural(changes.Count, "scenario")).Append(changes.Count == 1 ? " differs" : " differ");
        if (comparison.Compared > changes.Count)
            sb.Append(", ").Append(comparison.Compared - changes.Count).Append(" unchanged");
        sb.Append(".\n\n");

        sb.Append("| scenario | change | outcomes | changed combinations |\n");
        sb.Append("|---|---|---|---|\n");
        foreach (var c in changes)
        {
            string outcomes = c.Status switch
            {
                ChangeStatus.Added => $"{c.NewOutcomes} (new)",
                ChangeStatus.Removed => $"{c.OldOutcomes} (removed)",
                _ => $"{c.OldOutcomes} → {c.NewOutcomes}",
            };
            sb.Append("| `").Append(c.Id).Append("` | ").Append(Word(c.Status)).Append(" | ").Append(outcomes).Append(" | ")
              .Append(Combinations(c)).Append(" |\n");
        }

        bool diffsStopped = false;
        foreach (var c in changes)
        {
            sb.Append("\n### `").Append(c.Id).Append("`\n\n");
            switch (c.Status)
            {
                case ChangeStatus.Removed:
                    sb.Append("Snapshot removed (the scenario is gone); it had ").Append(Plural(c.OldOutcomes, "outcome")).Append(": ")
                      .Append(string.Join(", ", c.Gone.Select(f => $"`{f}`"))).Append(".\n");
                    continue;
                case ChangeStatus.Added:
                    sb.Append("New snapshot, ").Append(Plural(c.NewOutcomes, "outcome")).Append(" over ").Append(Plural(c.Combinations, "combination")).Append(":\n");
                    foreach (var o in c.Outcomes)
                        sb.Append("- outcome ").Append(o.Index).Append(": `").Append(o.Formula).Append("` (").Append(Plural(o.Combinations, "combination")).Append(")\n");
                    continue;
            }
            if (c.SeriesChange is { } s)
                sb.Append("The series changed: ").Append(s).Append(".\n\n");
            else if (c.ChangedCombinations.Count == 0)
            {
                sb.Append("No combination's state changed: only the file's text differs (its layout), and every outcome reads back the same.\n");
                continue;
            }
            else
                sb.Append("Changed in ").Append(Combinations(c)).Append(".\n\n");
            foreach (var o in c.Outcomes.Where(o => o.Changed > 0))
            {
                sb.Append("- outcome ").Append(o.Index).Append(" of ").Append(c.NewOutcomes).Append(": `").Append(o.Formula).Append("` (")
                  .Append(Plural(o.Combinations, "combination")).Append("): ");
                sb.Append(o.IsNew ? "new outcome" : o.Changed == o.Combinations ? "changed" : $"changed in {o.Changed} of them").Append('\n');
            }
            foreach (var g in c.Gone)
                sb.Append("- no longer an outcome: `").Append(g).Append("`\n");
            int unchanged = c.Outcomes.Count(o => o.Changed == 0);
            if (unchanged > 0)
                sb.Append("- ").Append(unchanged).Append(unchanged == 1 ? " outcome" : " outcomes").Append(" unchanged\n");

            if (c.SeriesChange is not null)
            {
                // Outcomes of different series are not the same combinations: the file's diff is all there is.
                diffsStopped = Details(sb, "diff", c.Diff, maxDiffLines, comparison, c.Path, diffsStopped, maxChars);
                continue;
            }
            var left = new List<int>();
            foreach (var o in c.Outcomes.Where(o => o.Changed > 0 && o.After is not null))
            {
                if (diffsStopped || sb.Length > maxChars)
                {
                    diffsStopped = true;
                    left.Add(o.Index);
                    continue;
                }
                sb.Append("\n#### outcome ").Append(o.Index).Append(" of ").Append(c.NewOutcomes).Append(": `").Append(o.Formula).Append("`, ")
                  .Append(o.Before is null ? "new in" : "changed in").Append(" `--patches ").Append(o.Example).Append("`")
                  .Append(o.Changed > 1 ? $" (and {o.Changed - 1} more of its combinations)" : "").Append("\n\n");
                string moved = MovedNumbers(o);
                if (moved.Length > 0)
                    sb.Append("```text\n").Append(moved.Replace("```", "'''")).Append("```\n");
                diffsStopped = Details(sb, "diff of its state", StateDiff(c.Id, o), maxDiffLines, comparison, c.Path, diffsStopped, maxChars);
            }
            if (left.Count > 0)
                sb.Append("\n(outcome").Append(left.Count == 1 ? " " : "s ").Append(string.Join(", ", left))
                  .Append(" left out to keep this comment short: `").Append(Command(comparison, c.Path)).Append("` shows every outcome)\n");
        }
        return sb.ToString();
    }

    // A collapsed diff block cut at maxDiffLines; true (and nothing but a note) once the report is past maxChars.
    private static bool Details(StringBuilder sb, string title, string diff, int maxDiffLines, SnapshotComparison comparison, string path, bool stopped, int maxChars)
    {
        var lines = diff.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (stopped || sb.Length > maxChars)
        {
            sb.Append("\n(").Append(title).Append(" left out to keep this comment short: `").Append(Command(comparison, path, lines.Length)).Append("` shows it)\n");
            return true;
        }
        sb.Append("\n<details><summary>").Append(title).Append(" (").Append(Plural(lines.Length, "line")).Append(")</summary>\n\n```diff\n");
        foreach (var l in lines.Take(maxDiffLines))
            sb.Append(l.Replace("```", "'''")).Append('\n');
        sb.Append("```\n");
        if (lines.Length > maxDiffLines)
            sb.Append("\n… ").Append(lines.Length - maxDiffLines).Append(" more lines: `").Append(Command(comparison, path, lines.Length)).Append("` shows them all\n");
        sb.Append("\n</details>\n");
        return false;
    }

    private static string Combinations(ScenarioChange c) => c.Status switch
    {
        ChangeStatus.Changed when c.ChangedFormula is { } f => $"{c.ChangedCombinations.Count} of {c.Combinations}: `{f}`",
        ChangeStatus.Changed when c.SeriesChange is null => $"none of {c.Combinations} (the layout only)",
        ChangeStatus.Changed => $"all {c.Combinations} (the series changed)",
        ChangeStatus.Added => $"all {c.Combinations}",
        _ => "-",
    };

    private static string Word(ChangeStatus s) => s switch
    {
        ChangeStatus.Added => "new",
        ChangeStatus.Removed => "removed",
        _ => "changed",
    };

    private static string Plural(int n, string word) => SnapshotRenderer.Plural(n, word);
}
