using System.CommandLine;
using KernelMm.Cli.Output;
using KernelMm.Harness.Pictures;
using KernelMm.Harness.Review;
using KernelMm.Harness.Snapshots;
using KernelMm.Harness.Suite;
using Spectre.Console;

namespace KernelMm.Cli.Commands;

/// <summary>
/// <c>kmm report [--markdown] [--against REV]</c>: the snapshots that changed (received against
/// verified, or the working tree against a git revision), which outcomes and combinations, and
/// the diffs, sized for a pull-request comment.
/// </summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths")
        {
            Description = "Scenario (or snapshot) files or folders (default: all).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var markdown = new Option<bool>("--markdown") { Description = "GitHub markdown for a PR comment (default: the same report as plain text with coloured diffs)." };
        var against = new Option<string?>("--against") { Description = "Compare the working tree's verified snapshots with this git revision's (default: received against verified)." };
        var maxDiffLines = new Option<int>("--max-diff-lines")
        {
            Description = "Lines of each scenario's diff shown (default 60).",
            DefaultValueFactory = _ => ReviewReport.DefaultMaxDiffLines,
        };
        var html = new Option<string?>("--html") { Description = "Also write a self-contained HTML report with the direct-map and page-table maps into this directory (index.html)." };
        var all = new Option<bool>("--all") { Description = "With --html: draw the unchanged scenarios' outcomes too." };
        var textOnly = new Option<bool>("--text-only") { Description = "With --html: draw every map from the snapshots' text, without re-running an outcome to draw it from the model." };
        var command = new Command("report", "Report the snapshots that changed, for review in a pull request.") { paths, markdown, against, maxDiffLines, html, all, textOnly };
        command.SetAction(r => Cli.Guard(() => Execute(r.GetValue(paths) ?? [], r.GetValue(markdown), r.GetValue(against), r.GetValue(maxDiffLines),
            r.GetValue(html), r.GetValue(all), r.GetValue(textOnly))));
        return command;
    }

    private static int Execute(string[] paths, bool markdown, string? against, int maxDiffLines, string? html, bool all, bool textOnly)
    {
        var ctx = CliContext.Create();
        if (maxDiffLines < 0)
            throw new UsageException("--max-diff-lines must not be negative");
        SnapshotComparison comparison;
        try
        {
            // Every series' snapshots, one comparison: the upstream series' ids carry their folder's series.
            comparison = SnapshotSources.Combine([.. ctx.Stores.Select(store => against is null
                ? SnapshotSources.Pending(store, ctx.Repo.Scope(paths, store.SnapshotsDir))
                : SnapshotSources.AgainstRevision(ctx.Repo.Root, store.SnapshotsDir, against, ctx.Repo.Scope(paths, store.SnapshotsDir)))],
                [.. Patches.Series.All.Select(s => s.Name)]);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        if ((all || textOnly) && html is null)
            throw new UsageException($"{(all ? "--all" : "--text-only")} draws maps: it needs --html DIR");
        if (html is not null)
        {
            WriteHtml(comparison, html, all ? Unchanged(ctx, comparison, paths) : [], textOnly ? null : ModelPictures(ctx));
            if (!markdown)
                return ExitCodes.Ok;
        }
        if (markdown)
        {
            Console.Out.Write(ReviewReport.Markdown(comparison, maxDiffLines));
            return ExitCodes.Ok;
        }

        var console = ConsoleFactory.Create(Console.Out);
        var changes = comparison.Pairs.Select(ReviewReport.Analyze).ToList();
        console.WriteLine($"compared {comparison.Description}: {SnapshotRenderer.Plural(changes.Count, "scenario")} changed");
        foreach (var c in changes)
        {
            console.WriteLine();
            console.WriteLine($"{c.Id}: {c.Status.ToString().ToLowerInvariant()}, outcomes {c.OldOutcomes} -> {c.NewOutcomes}"
                + (c.ChangedFormula is { } f ? $", {c.ChangedCombinations.Count} of {c.Combinations} combinations changed: {f}"
                    : c.Status == ChangeStatus.Changed && c.SeriesChange is null ? $", no combination's state changed (the file's layout only)"
                    : c.SeriesChange is { } s ? $", the series changed: {s}" : ""));
            if (c.Status != ChangeStatus.Changed || c.SeriesChange is not null)
            {
                Diff(console, c.Diff, maxDiffLines, comparison, c.Path);
                continue;
            }
            foreach (var o in c.Outcomes.Where(o => o.Changed > 0))
            {
                console.WriteLine($"  outcome {o.Index}: {o.Formula} ({o.Changed} of {o.Combinations} changed{(o.IsNew ? ", new" : "")}), --patches {o.Example}:");
                foreach (var line in ReviewReport.MovedNumbers(o).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                    console.WriteLine("    " + line);
                Diff(console, ReviewReport.StateDiff(c.Id, o), maxDiffLines, comparison, c.Path);
            }
        }
        return ExitCodes.Ok;
    }

    private static void Diff(IAnsiConsole console, string diff, int maxDiffLines, SnapshotComparison comparison, string path)
    {
        var lines = diff.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        DiffPrinter.Print(console, [.. lines.Take(maxDiffLines).Select(l => new DiffLine(Kind(l), l))]);
        if (lines.Length > maxDiffLines)
            console.WriteLine($"... {lines.Length - maxDiffLines} more diff lines: {ReviewReport.Command(comparison, path, lines.Length)} shows them all");
    }

    private static void WriteHtml(SnapshotComparison comparison, string dir, IReadOnlyList<(string, string)> unchanged,
        Func<string, SnapshotFile, SnapshotOutcome, IReadOnlyList<StatePictures>?>? model)
    {
        string file = Path.Combine(dir, "index.html");
        string page = HtmlReport.Render(comparison, unchanged, model: model);
        try
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(file, page, TextRules.Utf8NoBom);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--html {dir}: {e.Message}");
        }
        Console.Error.WriteLine($"wrote {file}");
    }

    /// <summary>
    /// An outcome's pictures from the model: its scenario re-run under the outcome's first
    /// combination, drawn at each checkpoint, and kept only when the run's state is the
    /// outcome's state in the snapshot byte for byte (so the picture is of that state, not of
    /// what the code does now); null otherwise (no scenario file, another series, a different
    /// state, a run that fails), and the report draws that outcome from the text.
    /// </summary>
    private static Func<string, SnapshotFile, SnapshotOutcome, IReadOnlyList<StatePictures>?> ModelPictures(CliContext ctx)
    {
        var runners = new Dictionary<string, SuiteRunner>();
        return (id, file, outcome) =>
        {
            var (scenario, series) = SeriesOf(id);
            string path = ctx.Store.ScenarioPath(scenario);
            if (!File.Exists(path) || !file.Series.SequenceEqual(series.Ids) || file.Combinations(outcome.Formula) is not { Count: > 0 } combos)
                return null;
            if (!runners.TryGetValue(series.Name, out var runner))
                runners[series.Name] = runner = ctx.Runner(series);
            var pictures = new List<StatePictures>();
            var (_, result) = runner.Show(ctx.Repo.Describe(path), series.Combination(combos[0]), (name, k) => pictures.Add(StatePictures.FromKernel(name, k)));
            return result?.State == outcome.State ? pictures : null;
        };
    }

    // "kmem/x [upstream]": a pair of another series' store (SnapshotSources.Combine); "kmem/x": the first series'.
    private static (string Scenario, Patches.Series Series) SeriesOf(string id)
    {
        int open = id.LastIndexOf(" [", StringComparison.Ordinal);
        if (open > 0 && id.EndsWith(']') && Patches.Series.All.FirstOrDefault(s => s.Name == id[(open + 2)..^1]) is { } series)
            return (id[..open], series);
        return (id, Patches.Series.All[0]);
    }

    // The working tree's verified snapshots in scope that the comparison does not list.
    private static List<(string, string)> Unchanged(CliContext ctx, SnapshotComparison comparison, string[] paths)
    {
        var changed = comparison.Pairs.Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        var result = new List<(string, string)>();
        // The stores in the order and with the id suffixes of SnapshotSources.Combine.
        foreach (var (store, i) in ctx.Stores.Select((s, i) => (s, i)))
        {
            string dir = store.SnapshotsDir, suffix = i == 0 ? "" : $" [{Patches.Series.All[i].Name}]";
            if (!Directory.Exists(dir))
                continue;
            var inScope = ctx.Repo.Scope(paths, dir);
            result.AddRange(Directory.EnumerateFiles(dir, "*" + SnapshotStore.VerifiedSuffix, SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(dir, f).Replace(Path.DirectorySeparatorChar, '/')[..^SnapshotStore.VerifiedSuffix.Length])
                .Where(id => !changed.Contains(id + suffix) && inScope(id))
                .Order(StringComparer.Ordinal)
                .Select(id => (id + suffix, store.ReadVerified(id)!)));
        }
        return result;
    }

    private static DiffLineKind Kind(string l) =>
        l.StartsWith("--- ", StringComparison.Ordinal) || l.StartsWith("+++ ", StringComparison.Ordinal) ? DiffLineKind.FileHeader
        : l.StartsWith("@@", StringComparison.Ordinal) ? DiffLineKind.HunkHeader
        : l.StartsWith('-') ? DiffLineKind.Removed
        : l.StartsWith('+') ? DiffLineKind.Added
        : DiffLineKind.Context;
}
