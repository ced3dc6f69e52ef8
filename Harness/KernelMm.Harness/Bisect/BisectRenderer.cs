using System.Globalization;
using System.Text;
using KernelMm.Harness.Snapshots;

namespace KernelMm.Harness.Bisect;

/// <summary>
/// <c>kmm bisect</c>'s text: the series-order bisection with its steps in git bisect's words,
/// the minimal causes, the toggle effects and the interacting pairs. Plain text, the same on
/// every machine (no timings: the command prints those apart).
/// </summary>
public static class BisectRenderer
{
    /// <summary>Metrics listed per patch and per pair before "... N more".</summary>
    public const int MaxRows = 12;

    public static string Render(BisectReport r, BisectTerms? terms = null)
    {
        var t = terms ?? BisectTerms.Default;
        var sb = new StringBuilder();
        sb.Append("scenario: ").Append(r.Scenario).Append('\n');
        sb.Append("condition: ").Append(r.Condition).Append('\n');
        sb.Append("series: ").Append(r.Ids.Count == 0 ? "(no patches)" : string.Join(' ', r.Ids)).Append('\n');
        sb.Append("combinations run: ").Append(r.Runs).Append(" of ").Append(r.Combinations).Append('\n');
        foreach (var w in r.Warnings)
            sb.Append("warning: ").Append(w).Append('\n');

        Bisection(sb, r, t);
        if (r.Causes is { } c)
            Causes(sb, r, c, t);
        if (r.Effects is { } e)
            Effects(sb, r, e);
        return TextRules.Normalize(sb.ToString());
    }

    /// <summary>A prefix as a range of series positions: <c>[none]</c>, <c>[1]</c>, <c>[1-3]</c>.</summary>
    public static string PrefixLabel(int k) => k switch
    {
        0 => "[none]",
        1 => "[1]",
        _ => $"[1-{k}]",
    };

    /// <summary>A patch set: <c>{a, b}</c> in series order, <c>{}</c> for none.</summary>
    public static string SetLabel(int mask, IReadOnlyList<string> ids) =>
        "{" + string.Join(", ", MinimalCauses.Members(mask).Select(i => ids[i])) + "}";

    /// <summary>A change with its sign, invariant: <c>+128</c>, <c>-32</c>, <c>0</c>, <c>+64.5</c>.</summary>
    public static string Signed(double v) =>
        (v > 0 ? "+" : "") + (Math.Abs(v) < 1e-9 ? "0" : v.ToString("0.##", CultureInfo.InvariantCulture));

    private static void Bisection(StringBuilder sb, BisectReport r, BisectTerms t)
    {
        var b = r.Bisection;
        int n = r.Ids.Count;
        sb.Append($"\n## first {t.New} prefix (series order, as git bisect)\n");
        switch (b.End)
        {
            case BisectEnd.EmptySeries:
                sb.Append("the series is empty: nothing to bisect\n");
                return;
            case BisectEnd.BaseUntestable:
                sb.Append("cannot test the base kernel (no patches): ").Append(b.Base!.Detail).Append('\n');
                return;
            case BisectEnd.BaseBad:
                sb.Append($"the base kernel (no patches) is already {t.New}: ").Append(b.Base!.Detail).Append('\n');
                return;
            case BisectEnd.AllUntestable:
                sb.Append($"{t.Old}: [none]\n");
                sb.Append("cannot test the whole series ").Append(PrefixLabel(n)).Append(": ").Append(b.All!.Detail).Append('\n');
                return;
            case BisectEnd.NeverBad:
                sb.Append($"{t.Old}: [none]\n");
                sb.Append($"{t.Old}: ").Append(PrefixLabel(n)).Append(" (the whole series): no prefix shows it\n");
                return;
        }
        sb.Append($"{t.Old}: [none]\n");
        sb.Append($"{t.New}: ").Append(PrefixLabel(n)).Append(" (the whole series)\n");
        foreach (var s in b.Steps)
        {
            sb.Append("Bisecting: ").Append((s.LeftAfter == 1 ? "1 prefix" : $"{s.LeftAfter} prefixes"))
              .Append(" left to test after this (roughly ").Append(SnapshotRenderer.Plural(s.StepsAfter, "step")).Append(")\n");
            sb.Append(PrefixLabel(s.Prefix)).Append(' ').Append(r.Ids[s.Prefix - 1]).Append(": ").Append(Word(s.Verdict, t)).Append('\n');
        }
        if (b.End == BisectEnd.Found)
        {
            int k = b.FirstBad!.Value;
            sb.Append($"first {t.New} prefix: ").Append(PrefixLabel(k)).Append(' ').Append(r.Ids[k - 1]).Append('\n');
            sb.Append("  ").Append(r.Titles[k - 1]).Append('\n');
            if (b.FirstBadDetail.Length > 0)
                sb.Append("  ").Append(b.FirstBadDetail).Append('\n');
        }
        else
        {
            sb.Append($"only skipped prefixes are left: the first {t.New} prefix is one of ")
              .Append(string.Join(", ", b.Candidates.Select(k => $"{PrefixLabel(k)} {r.Ids[k - 1]}"))).Append('\n');
        }
    }

    private static string Word(Verdict v, BisectTerms t) => v switch
    {
        Verdict.Good => t.Old,
        Verdict.Bad => t.New,
        _ => "skip (cannot test)",
    };

    private static void Causes(StringBuilder sb, BisectReport r, CauseAnalysis c, BisectTerms t)
    {
        sb.Append("\n## minimal causes (");
        sb.Append(c.Exhaustive
            ? $"all {c.Judged} combinations judged: {c.Bad.Count} {t.New}"
            : $"delta debugging: {c.DeltaDebugTests} combinations judged");
        if (c.Untestable.Count > 0)
            sb.Append($", {c.Untestable.Count} untestable");
        sb.Append(")\n");
        if (c.BadFormula is { } f)
            sb.Append($"{t.New} exactly where: ").Append(f).Append('\n');
        if (c.Causes.Count == 0)
        {
            sb.Append(c.Exhaustive || c.Bad.Count == 0
                ? "no combination shows it\n"
                : "no single patch shows it, and the whole series does not either: no cause found by ddmin\n");
            return;
        }
        int smallest = c.Causes[0].Size;
        foreach (var cause in c.Causes)
        {
            sb.Append(SetLabel(cause.Mask, r.Ids)).Append(": ");
            var parts = new List<string> { cause.Size == smallest ? "smallest" : "minimal" };
            if (!c.Exhaustive)
            {
                parts.Add(cause.Size == 1 ? $"alone is {t.New}" : "1-minimal by ddmin: without any one of them it does not appear");
            }
            else
            {
                parts.Add(cause.Sufficient
                    ? $"{t.New} in all {cause.Supersets} combinations that apply {(cause.Size == 1 ? "it" : "them")}"
                    : $"{t.New} in {cause.BadSupersets} of the {cause.Supersets} combinations that apply {(cause.Size == 1 ? "it" : "them")}");
                parts.Add(cause.Necessary
                    ? $"necessary: every {t.New} combination applies " + (cause.Size == 1 ? "it" : "them all")
                    : $"not necessary: {SnapshotRenderer.Plural(cause.BadWithout, $"{t.New} combination")} lack{(cause.BadWithout == 1 ? "s" : "")} {(cause.Size == 1 ? "it" : "one of them")}");
            }
            sb.Append(string.Join("; ", parts)).Append('\n');
        }
        if (!c.Exhaustive)
            sb.Append("(other causes may exist: raise --max-combinations to judge every combination)\n");
    }

    private static void Effects(StringBuilder sb, BisectReport r, EffectsAnalysis e)
    {
        sb.Append("\n## toggle effects (");
        sb.Append(e.Factorial
            ? $"mean change applying each patch, over the {e.Combinations / 2} pairs of combinations that differ only in it; range in brackets"
            : "change applying each patch alone to the base kernel");
        sb.Append(")\n");
        int width = Math.Min(48, e.Main.Select(m => m.Metric.Length).Concat(e.Presence.Select(p => p.Metric.Length)).DefaultIfEmpty(0).Max());
        var quiet = new List<string>();
        for (int p = 0; p < r.Ids.Count; p++)
        {
            var rows = new List<string>();
            // A metric that exists exactly where this patch is applied (a counter it adds) is the patch's own.
            foreach (var pr in e.Presence.Where(pr => pr.Where == r.Ids[p] || pr.Where == "!" + r.Ids[p]))
                rows.Add($"  {pr.Metric.PadRight(width)}  {(pr.Where.StartsWith('!') ? "removed" : "added")} (present only where {pr.Where})");
            foreach (var m in e.Main.Where(m => m.Patch == p))
            {
                string range = e.Factorial && Math.Abs(m.Max - m.Min) > 1e-9 ? $"  [{Signed(m.Min)} .. {Signed(m.Max)}]" : "";
                rows.Add($"  {m.Metric.PadRight(width)}  {Signed(m.Mean)}{range}");
            }
            if (rows.Count == 0)
            {
                quiet.Add(r.Ids[p]);
                continue;
            }
            sb.Append(r.Ids[p]).Append('\n');
            Rows(sb, rows);
        }
        var others = e.Presence.Where(pr => !r.Ids.Any(id => pr.Where == id || pr.Where == "!" + id)).ToList();
        if (others.Count > 0)
        {
            sb.Append("present in some combinations only\n");
            Rows(sb, [.. others.Select(pr => $"  {pr.Metric.PadRight(width)}  where {pr.Where}")]);
        }
        if (quiet.Count > 0)
            sb.Append("no effect: ").Append(string.Join(", ", quiet)).Append('\n');

        sb.Append("\n## interacting pairs (effect of the later patch with the earlier one applied / without it)\n");
        if (e.Interactions.Count == 0)
            sb.Append("none\n");
        foreach (var i in e.Interactions)
        {
            sb.Append(r.Ids[i.A]).Append(" x ").Append(r.Ids[i.B]).Append(": ")
              .Append(SnapshotRenderer.Plural(i.Metrics.Count, "metric")).Append('\n');
            int w = Math.Min(48, i.Metrics.Max(m => m.Metric.Length));
            Rows(sb, [.. i.Metrics.Select(m => $"  {m.Metric.PadRight(w)}  {r.Ids[i.B]} {Signed(m.With)} with {r.Ids[i.A]} / {Signed(m.Without)} without")]);
        }
    }

    private static void Rows(StringBuilder sb, IReadOnlyList<string> rows)
    {
        foreach (var row in rows.Take(MaxRows))
            sb.Append(row).Append('\n');
        if (rows.Count > MaxRows)
            sb.Append("  ... ").Append(rows.Count - MaxRows).Append(" more\n");
    }
}
