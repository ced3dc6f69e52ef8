using System.Text;
using KernelMm.Harness.Outcomes;
using KernelMm.Patches;

namespace KernelMm.Harness.Snapshots;

/// <summary>
/// A scenario's snapshot file (DESIGN.md's layout): a header naming the scenario, the
/// series, the number of combinations and of outcomes, then each outcome with its formula,
/// the number of combinations it covers, and its checkpoints.
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
        {
            var o = outcomes[i];
            sb.Append('\n');
            sb.Append("## outcome ").Append(i + 1).Append(" of ").Append(outcomes.Count).Append(": ").Append(o.Formula)
              .Append(" (").Append(Plural(o.Combinations.Count, "combination")).Append(")\n");
            sb.Append(o.State);
        }
        return TextRules.Normalize(sb.ToString());
    }

    /// <summary>One combination's state for <c>kmm show</c>: the same sections, headed by the combination.</summary>
    public static string RenderOne(string scenarioName, Combination combination, string state) =>
        TextRules.Normalize($"scenario: {scenarioName}\n{SeriesLine(combination)}patches: {combination.Label}\n\n{state}");

    // The posted series is the default and says nothing; another names itself, since `none` of
    // each is the same kernel but `pt-reclaim` is only in one.
    private static string SeriesLine(Combination c) => c.Series == Series.Posted || !Series.All.Contains(c.Series) ? "" : $"series: {c.Series.Name}\n";

    public static string Plural(int n, string word) => n == 1 ? $"1 {word}" : $"{n} {word}s";
}
