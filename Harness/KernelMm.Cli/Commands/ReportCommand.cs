using System.CommandLine;
using KernelMm.Cli.Output;
using KernelMm.Harness.Review;
using KernelMm.Harness.Snapshots;
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
            DefaultValueFactory = _ => 60,
        };
        var html = new Option<string?>("--html") { Description = "Also write a self-contained HTML report with the direct-map and page-table maps into this directory (index.html)." };
        var all = new Option<bool>("--all") { Description = "With --html: draw the unchanged scenarios' outcomes too." };
        var command = new Command("report", "Report the snapshots that changed, for review in a pull request.") { paths, markdown, against, maxDiffLines, html, all };
        command.SetAction(r => Cli.Guard(() => Execute(r.GetValue(paths) ?? [], r.GetValue(markdown), r.GetValue(against), r.GetValue(maxDiffLines),
            r.GetValue(html), r.GetValue(all))));
        return command;
    }

    private static int Execute(string[] paths, bool markdown, string? against, int maxDiffLines, string? html, bool all)
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
        if (all && html is null)
            throw new UsageException("--all draws maps: it needs --html DIR");
        if (html is not null)
        {
            WriteHtml(ctx, comparison, html, all ? Unchanged(ctx, comparison, paths) : []);
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
                + (c.ChangedFormula is { } f ? $", {c.ChangedCombinations.Count} of {c.Combinations} combinations changed: {f}" : ""));
            foreach (var o in c.Outcomes.Where(o => o.Changed > 0 && c.Status == ChangeStatus.Changed))
                console.WriteLine($"  outcome {o.Index}: {o.Formula} ({o.Changed} of {o.Combinations} changed{(o.IsNew ? ", new" : "")})");
            var lines = c.Diff.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            DiffPrinter.Print(console, [.. lines.Take(maxDiffLines).Select(l => new DiffLine(Kind(l), l))]);
            if (lines.Length > maxDiffLines)
                console.WriteLine($"... {lines.Length - maxDiffLines} more diff lines");
        }
        return ExitCodes.Ok;
    }

    private static void WriteHtml(CliContext ctx, SnapshotComparison comparison, string dir, IReadOnlyList<(string, string)> unchanged)
    {
        string file = Path.Combine(dir, "index.html");
        try
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(file, HtmlReport.Render(comparison, unchanged), TextRules.Utf8NoBom);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"--html {dir}: {e.Message}");
        }
        Console.Error.WriteLine($"wrote {file}");
    }

    // The working tree's verified snapshots in scope that the comparison does not list.
    private static List<(string, string)> Unchanged(CliContext ctx, SnapshotComparison comparison, string[] paths)
    {
        var changed = comparison.Pairs.Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        var inScope = ctx.Repo.Scope(paths);
        var dir = ctx.Store.SnapshotsDir;
        if (!Directory.Exists(dir))
            return [];
        return [.. Directory.EnumerateFiles(dir, "*" + SnapshotStore.VerifiedSuffix, SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(dir, f).Replace(Path.DirectorySeparatorChar, '/')[..^SnapshotStore.VerifiedSuffix.Length])
            .Where(id => !changed.Contains(id) && inScope(id))
            .Order(StringComparer.Ordinal)
            .Select(id => (id, ctx.Store.ReadVerified(id)!))];
    }

    private static DiffLineKind Kind(string l) =>
        l.StartsWith("--- ", StringComparison.Ordinal) || l.StartsWith("+++ ", StringComparison.Ordinal) ? DiffLineKind.FileHeader
        : l.StartsWith("@@", StringComparison.Ordinal) ? DiffLineKind.HunkHeader
        : l.StartsWith('-') ? DiffLineKind.Removed
        : l.StartsWith('+') ? DiffLineKind.Added
        : DiffLineKind.Context;
}
