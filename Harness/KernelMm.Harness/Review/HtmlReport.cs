using System.Globalization;
using System.Text;
using KernelMm.Harness.Bisect;
using KernelMm.Harness.Compare;
using KernelMm.Harness.Pictures;
using KernelMm.Harness.Snapshots;
using KernelMm.Harness.State;

namespace KernelMm.Harness.Review;

/// <summary>
/// <c>kmm report --html DIR</c>: the review report as one self-contained HTML page (inline CSS
/// and SVG: no script, no network, no external asset). Per scenario that changed: its outcomes
/// with their formulas and what changed in each; per outcome and checkpoint the direct map (and
/// the page tables of processes whose tables changed) before and after side by side with the
/// changed cells outlined, and against the base kernel's outcome; the numbers that moved (old,
/// %change, new); and the text diff. With unchanged scenarios included, each is drawn per outcome
/// against its base-kernel outcome. The maps come from the snapshots' text (the only thing a
/// verified file or a git revision holds), so before and after are drawn alike; where
/// <c>model</c> gives an outcome's pictures from the model (a re-run that reproduced the
/// outcome's state byte for byte), the outcome and its base-kernel comparison are drawn from
/// those, with the PKS key and <c>_PAGE_KERNEL_4K</c> the text lacks. Deterministic: the same
/// snapshots give the same bytes.
/// </summary>
public static class HtmlReport
{
    /// <param name="comparison">The changed snapshots.</param>
    /// <param name="unchanged">Snapshots to draw although unchanged (id, text), or none.</param>
    /// <param name="maxDiffLines">Lines of each scenario's diff shown.</param>
    /// <param name="model">The pictures of a scenario's outcome (id, the snapshot, the outcome) at each checkpoint from the model, or null where there are none.</param>
    public static string Render(SnapshotComparison comparison, IReadOnlyList<(string Id, string Text)> unchanged, int maxDiffLines = 4000,
        Func<string, SnapshotFile, SnapshotOutcome, IReadOnlyList<StatePictures>?>? model = null)
    {
        var cache = new Dictionary<(string, int), IReadOnlyList<StatePictures>?>();
        IReadOnlyList<StatePictures>? Model(string id, SnapshotFile file, SnapshotOutcome o)
        {
            if (model is null)
                return null;
            if (!cache.TryGetValue((id, o.Index), out var p))
                cache[(id, o.Index)] = p = model(id, file, o);
            return p;
        }
        var changes = comparison.Pairs.Select(p => (Pair: p, Change: ReviewReport.Analyze(p))).ToList();
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>kmm snapshot report</title>\n<style>\n")
          .Append(Css).Append("</style>\n</head>\n<body>\n<h1>kmm snapshot report</h1>\n");
        sb.Append("<p>Compared ").Append(E(comparison.Description)).Append(": ")
          .Append(changes.Count == 0 ? "no snapshot changed" : Plural(changes.Count, "scenario") + (changes.Count == 1 ? " differs" : " differ"))
          .Append(comparison.Compared > changes.Count ? $", {comparison.Compared - changes.Count} unchanged" : "").Append(".</p>\n");
        sb.Append(HowToRead);

        if (changes.Count > 0)
        {
            sb.Append("<table class=\"summary\">\n<tr><th>scenario</th><th>change</th><th>outcomes</th><th>changed combinations</th></tr>\n");
            foreach (var (_, c) in changes)
                sb.Append("<tr><td><a href=\"#").Append(Anchor(c.Id)).Append("\"><code>").Append(E(c.Id)).Append("</code></a></td><td>")
                  .Append(c.Status.ToString().ToLowerInvariant()).Append("</td><td>").Append(c.OldOutcomes).Append(" → ").Append(c.NewOutcomes)
                  .Append("</td><td>").Append(E(c.ChangedFormula is { } f ? $"{c.ChangedCombinations.Count} of {c.Combinations}: {f}" : $"{c.ChangedCombinations.Count} of {c.Combinations}"))
                  .Append("</td></tr>\n");
            sb.Append("</table>\n");
        }
        if (unchanged.Count > 0)
        {
            sb.Append("<p>Unchanged scenarios drawn below: ");
            sb.Append(string.Join(", ", unchanged.Select(u => $"<a href=\"#{Anchor(u.Id)}\"><code>{E(u.Id)}</code></a>"))).Append(".</p>\n");
        }

        foreach (var (pair, c) in changes)
            Changed(sb, pair, c, maxDiffLines, Model, comparison.Against);
        foreach (var (id, text) in unchanged)
            Unchanged(sb, id, SnapshotFile.Parse(text), Model);
        sb.Append("</body>\n</html>\n");
        return sb.ToString();
    }

    private delegate IReadOnlyList<StatePictures>? ModelPictures(string id, SnapshotFile file, SnapshotOutcome o);

    private static void Changed(StringBuilder sb, SnapshotPair pair, ScenarioChange c, int maxDiffLines, ModelPictures model, string? against)
    {
        sb.Append("<section id=\"").Append(Anchor(c.Id)).Append("\">\n<h2><code>").Append(E(c.Id)).Append("</code>: ").Append(c.Status.ToString().ToLowerInvariant()).Append("</h2>\n");
        var oldFile = pair.Old is null ? null : SnapshotFile.Parse(pair.Old);
        var newFile = pair.New is null ? null : SnapshotFile.Parse(pair.New);
        if (c.SeriesChange is { } s)
            sb.Append("<p>The series changed: ").Append(E(s)).Append(".</p>\n");
        else if (c.ChangedFormula is { } f)
            sb.Append("<p>Changed in ").Append(Plural(c.ChangedCombinations.Count, "combination")).Append(" of ").Append(c.Combinations).Append(": <code>").Append(E(f)).Append("</code>.</p>\n");
        foreach (var g in c.Gone)
            sb.Append("<p>No longer an outcome: <code>").Append(E(g)).Append("</code>.</p>\n");

        (string Old, string New) labels = pair.NewName.EndsWith(SnapshotStore.ReceivedSuffix, StringComparison.Ordinal)
            ? ("verified", "received") : ("before", "after");
        if (newFile is null)
        {
            sb.Append("<p>Snapshot removed (the scenario is gone).</p>\n");
        }
        else
        {
            bool sameSeries = oldFile is not null && oldFile.Series.SequenceEqual(newFile.Series);
            var oldStates = sameSeries ? oldFile!.StatesByCombination() : null;
            var baseOutcome = BaseOutcome(newFile);
            foreach (var o in newFile.Outcomes)
            {
                var change = c.Outcomes.FirstOrDefault(x => x.Index == o.Index);
                var combos = newFile.Combinations(o.Formula) ?? [];
                string? old = oldStates is not null && combos.Count > 0 ? oldStates[combos[0]] : null;
                string what = change is null ? ""
                    : (change.IsNew ? "new outcome, " : "") + (change.Changed == 0 ? "unchanged" : change.Changed == change.Combinations ? "changed" : $"changed in {change.Changed} of its combinations");
                Outcome(sb, c.Id, newFile, o, baseOutcome, what, old, labels, model);
            }
        }

        var lines = c.Diff.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        sb.Append("<details class=\"diff\"><summary>text diff (").Append(Plural(lines.Length, "line")).Append(")</summary>\n<pre>");
        foreach (var l in lines.Take(maxDiffLines))
        {
            string cls = l.StartsWith("+++ ", StringComparison.Ordinal) || l.StartsWith("--- ", StringComparison.Ordinal) ? "h"
                : l.StartsWith("@@", StringComparison.Ordinal) ? "at" : l.StartsWith('+') ? "add" : l.StartsWith('-') ? "del" : "ctx";
            sb.Append("<span class=\"").Append(cls).Append("\">").Append(E(l)).Append("</span>\n");
        }
        if (lines.Length > maxDiffLines)
            sb.Append("… ").Append(lines.Length - maxDiffLines).Append(" more lines: ").Append(E(ReviewReport.FileDiffCommand(against, c.Path))).Append(" shows them all\n");
        sb.Append("</pre></details>\n</section>\n");
    }

    private static void Unchanged(StringBuilder sb, string id, SnapshotFile file, ModelPictures model)
    {
        sb.Append("<section id=\"").Append(Anchor(id)).Append("\">\n<h2><code>").Append(E(id)).Append("</code>: unchanged</h2>\n");
        var baseOutcome = BaseOutcome(file);
        foreach (var o in file.Outcomes)
            Outcome(sb, id, file, o, baseOutcome, "", null, ("", ""), model);
        sb.Append("</section>\n");
    }

    // The outcome holding the base kernel (no patches applied): combination 0.
    private static SnapshotOutcome? BaseOutcome(SnapshotFile file) =>
        file.Outcomes.FirstOrDefault(o => (file.Combinations(o.Formula) ?? []).Contains(0));

    private static void Outcome(StringBuilder sb, string id, SnapshotFile file, SnapshotOutcome o, SnapshotOutcome? baseOutcome, string what,
        string? old, (string Old, string New) labels, ModelPictures model)
    {
        var exact = model(id, file, o);
        var exactBase = baseOutcome is null || baseOutcome == o ? null : model(id, file, baseOutcome);
        sb.Append("<h3>outcome ").Append(o.Index).Append(" of ").Append(file.Outcomes.Count).Append(": <code>").Append(E(o.Formula)).Append("</code> (")
          .Append(Plural(o.Count, "combination")).Append(')').Append(what.Length > 0 ? ": " + E(what) : "").Append("</h3>\n");
        if (exact is not null)
            sb.Append("<p class=\"note\">Maps of this outcome drawn from the model: the scenario, re-run here under its first combination, gave this outcome's state byte for byte (the PKS key and <code>_PAGE_KERNEL_4K</code> included)")
              .Append(exactBase is null && baseOutcome is not null && baseOutcome != o ? "; the base kernel's outcome did not re-run alike, so its comparison is drawn from the text" : "")
              .Append(".</p>\n");
        var now = CheckpointState.Parse(o.State);
        var before = old is null ? [] : CheckpointState.Parse(old);
        var baseStates = baseOutcome is null || baseOutcome == o ? [] : CheckpointState.Parse(baseOutcome.State);
        string baseLabel = baseOutcome is null ? "" : $"base kernel: outcome {baseOutcome.Index} ({baseOutcome.Formula})";
        string thisLabel = $"outcome {o.Index} ({o.Formula})";
        foreach (var cp in now)
        {
            sb.Append("<h4>checkpoint: ").Append(E(cp.Name)).Append("</h4>\n");
            var pics = StatePictures.FromText(cp);
            var exactPics = exact?.FirstOrDefault(p => p.Checkpoint == cp.Name);
            var oldCp = before.FirstOrDefault(b => b.Name == cp.Name);
            var baseCp = baseStates.FirstOrDefault(b => b.Name == cp.Name);
            bool drewDirectMap = false;
            if (oldCp is not null && old != o.State)
            {
                var oldPics = StatePictures.FromText(oldCp);
                drewDirectMap |= Pair(sb, $"{labels.Old} vs {labels.New}", oldPics, pics, labels.Old, labels.New, always: true);
                Numbers(sb, $"numbers that moved ({labels.Old} → {labels.New})", oldCp, cp);
            }
            if (baseCp is not null)
            {
                // Both sides from the model where both re-ran alike, else both from the text.
                var exactBaseCp = exactBase?.FirstOrDefault(p => p.Checkpoint == cp.Name);
                bool fromModel = exactPics is not null && exactBaseCp is not null;
                drewDirectMap |= Pair(sb, "base kernel vs this outcome", fromModel ? exactBaseCp! : StatePictures.FromText(baseCp),
                    fromModel ? exactPics! : pics, baseLabel, thisLabel, always: false);
                Numbers(sb, "numbers that differ from the base kernel's outcome", baseCp, cp);
            }
            if (!drewDirectMap)
            {
                if ((exactPics ?? pics).DirectMap is { } dm)
                    sb.Append("<div class=\"map\">").Append(SvgMap.Render(dm)).Append("</div>\n");
                else
                    sb.Append("<p class=\"note\">This checkpoint prints no kernel page-table dump of the direct map.</p>\n");
            }
        }
    }

    /// <summary>Side-by-side maps of two states: the direct map (always, or when it differs), and each process whose tables differ.</summary>
    private static bool Pair(StringBuilder sb, string what, StatePictures left, StatePictures right, string leftLabel, string rightLabel, bool always)
    {
        bool drew = false;
        if (left.DirectMap is { } l && right.DirectMap is { } r)
        {
            SvgMap.ChangedCells(l, r, out int n);
            if (n > 0 || always)
            {
                sb.Append("<div class=\"map\">").Append(SvgMap.RenderSideBySide($"direct map, {what}", l, r, leftLabel, rightLabel)).Append("</div>\n");
                drew = true;
            }
            else
            {
                sb.Append("<p class=\"note\">Direct map: as in ").Append(E(leftLabel)).Append(".</p>\n");
            }
        }
        var lefts = left.Processes.ToDictionary(p => p.Title);
        foreach (var p in right.Processes)
        {
            if (!lefts.TryGetValue(p.Title, out var lp))
                continue;
            SvgMap.ChangedCells(lp, p, out int n);
            if (n > 0)
                sb.Append("<div class=\"map\">").Append(SvgMap.RenderSideBySide($"{p.Title}, {what}", lp, p, leftLabel, rightLabel)).Append("</div>\n");
        }
        return drew;
    }

    private static void Numbers(StringBuilder sb, string title, CheckpointState before, CheckpointState after)
    {
        var section = CompareTable.Build("### checkpoint: " + before.Name + "\n" + before.Text, "### checkpoint: " + after.Name + "\n" + after.Text).FirstOrDefault();
        if (section is null || (section.Rows.Count == 0 && section.OtherDifferences.Count == 0))
            return;
        sb.Append("<details class=\"numbers\" open><summary>").Append(E(title)).Append("</summary>\n");
        if (section.Rows.Count > 0)
        {
            sb.Append("<table class=\"numbers\">\n<tr><th>old</th><th>%change</th><th>new</th><th>metric</th></tr>\n");
            foreach (var r in section.Rows)
                sb.Append("<tr><td>").Append(Value(r.Base)).Append("</td><td class=\"").Append(r.Delta > 0 ? "up" : r.Delta < 0 ? "down" : "")
                  .Append("\">").Append(E(Change(r))).Append("</td><td>").Append(Value(r.Head)).Append("</td><td><code>").Append(E(r.Metric)).Append("</code></td></tr>\n");
            sb.Append("</table>\n");
        }
        if (section.OtherDifferences.Count > 0)
            sb.Append("<p>Also differs: ").Append(E(string.Join(", ", section.OtherDifferences))).Append(".</p>\n");
        sb.Append("</details>\n");
    }

    private static string Value(double? v) => v is { } d ? d.ToString("0.##", CultureInfo.InvariantCulture) : "-";

    private static string Change(CompareRow r) => r.Kind switch
    {
        ChangeKind.Added => "(new)",
        ChangeKind.Removed => "(gone)",
        ChangeKind.Absolute => BisectRenderer.Signed(r.Delta),
        _ => (r.Percent > 0 ? "+" : "") + r.Percent.ToString("0.0", CultureInfo.InvariantCulture) + "%",
    };

    // "kmem/x [upstream]" -> "s-kmem-x--upstream-": letters, digits, '_' and '-' only.
    private static string Anchor(string id) => "s-" + string.Concat(id.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '-' ? ch : '-'));

    private static string E(string s) => SvgMap.Escape(s);

    private static string Plural(int n, string word) => SnapshotRenderer.Plural(n, word);

    private const string HowToRead =
        "<details class=\"howto\"><summary>How to read the maps</summary>\n<p>A direct-map cell is 2 MiB of physical memory, 512 to a row, so a row is 1 GiB "
        + "(larger machines aggregate cells, as the map's note says). Its colour is the leaf that maps it: green a 1G leaf, amber a 2M leaf, red 4K leaves "
        + "(a 2M range split to 4K), grey no entry. The strips under a cell mark its attributes: 1 read-only, 2 executable (NX cleared), 3 not present, "
        + "4 PKS key, 5 <code>_PAGE_KERNEL_4K</code>; strips 4 and 5 need the model's bits, which the ptdump text of a snapshot does not print "
        + "(<code>kmm show --svg</code> draws them). Side by side, the cells that differ are outlined in black on both maps. Hover a cell for its address range and contents. "
        + "A process map has one row per PMD table (1 GiB of virtual addresses) and one cell per PMD entry: no PTE table, an empty PTE table, "
        + "one with read-only entries only (the zero page, or write-protected pages: the dump prints no pfn), one mapping pages, or a 2M leaf.</p></details>\n";

    private const string Css = """
        body { font-family: sans-serif; margin: 16px; color: #111; background: #fff; }
        code, pre { font-family: monospace; }
        table { border-collapse: collapse; margin: 8px 0; }
        th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
        table.numbers td:nth-child(-n+3) { text-align: right; font-family: monospace; }
        td.up { color: #a40000; } td.down { color: #006400; }
        div.map { overflow-x: auto; margin: 8px 0; }
        div.map svg { display: block; max-width: 100%; height: auto; }
        p.note { color: #555; }
        pre { background: #f7f7f7; padding: 8px; overflow-x: auto; }
        pre span.add { color: #006400; } pre span.del { color: #a40000; } pre span.at { color: #00639c; } pre span.h { font-weight: bold; }
        section { border-top: 2px solid #ddd; margin-top: 24px; }

        """;
}
