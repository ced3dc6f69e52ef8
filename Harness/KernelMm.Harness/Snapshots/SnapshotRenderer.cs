using System.Text;
using KernelMm.Harness.Outcomes;
using KernelMm.Patches;

namespace KernelMm.Harness.Snapshots;

/// <summary>
/// A scenario's snapshot file: a header naming the scenario, the series, the number of
/// combinations and the outcomes (each with its formula and how many combinations it
/// covers), then what all outcomes share, printed once, and per outcome what differs
/// (<see cref="SnapshotWriter"/>). The file is read back before it is returned: every
/// outcome's whole state must come out of it exactly, or rendering fails.
/// </summary>
public static class SnapshotRenderer
{
    public static string Render(string scenarioName, Series series, IReadOnlyList<Outcome> outcomes)
    {
        var sb = new StringBuilder();
        sb.Append("scenario: ").Append(scenarioName).Append('\n');
        sb.Append("series: ").Append(series.Count == 0 ? "(no patches)" : string.Join(' ', series.Ids)).Append('\n');
        sb.Append("combinations: ").Append(series.CombinationCount).Append('\n');
        sb.Append("outcomes: ").Append(outcomes.Count).Append('\n');
        for (int i = 0; i < outcomes.Count; i++)
            sb.Append("  ").Append(i + 1).Append(": ").Append(outcomes[i].Formula)
              .Append(" (").Append(Plural(outcomes[i].Combinations.Count, "combination")).Append(")\n");
        if (outcomes.Count > 0)
            SnapshotWriter.Write(sb, outcomes);
        string text = TextRules.Normalize(sb.ToString());

        var back = SnapshotFile.Parse(text).Outcomes;
        for (int i = 0; i < outcomes.Count; i++)
            if (back[i].State != outcomes[i].State)
                throw new InvalidOperationException($"{scenarioName}: the snapshot does not give back outcome {i + 1}'s state:\n"
                    + UnifiedDiff.Render(outcomes[i].State, back[i].State, "run", "snapshot"));
        return text;
    }

    /// <summary>One combination's whole state for <c>kmm show</c>: the same sections, headed by the combination.</summary>
    public static string RenderOne(string scenarioName, Combination combination, string state) =>
        TextRules.Normalize($"scenario: {scenarioName}\n{SeriesLine(combination)}patches: {combination.Label}\n\n{state}");

    // The posted series is the default and says nothing; another names itself, since `none` of
    // each is the same kernel but `pt-reclaim` is only in one.
    private static string SeriesLine(Combination c) => c.Series == Series.Posted || !Series.All.Contains(c.Series) ? "" : $"series: {c.Series.Name}\n";

    public static string Plural(int n, string word) => n == 1 ? $"1 {word}" : $"{n} {word}s";
}
