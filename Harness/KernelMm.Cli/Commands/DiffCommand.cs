using System.CommandLine;
using KernelMm.Cli.Output;
using KernelMm.Harness.Review;
using KernelMm.Harness.Snapshots;
using Spectre.Console;

namespace KernelMm.Cli.Commands;

/// <summary><c>kmm diff [paths]</c>: what the pending received snapshots change, as unified diffs.</summary>
internal static class DiffCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths")
        {
            Description = "Scenario (or snapshot) files or folders (default: all).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command("diff", "Show received snapshots against verified ones (exit 1 when there are any).") { paths };
        command.SetAction(r => Cli.Guard(() => Execute(r.GetValue(paths) ?? [])));
        return command;
    }

    private static int Execute(string[] paths)
    {
        var ctx = CliContext.Create();
        var console = ConsoleFactory.Create(Console.Out);
        int count = 0;
        foreach (var store in ctx.Stores)
        {
            var pending = store.Pending(ctx.Repo.Scope(paths, store.SnapshotsDir));
            count += pending.Count;
            foreach (var id in pending)
            {
                string received = store.ReadReceived(id) ?? "";
                // Content against content: a BOM or CRLF in the verified file is said in words, not shown as every line changed.
                if (store.DescribeBrokenVerified(id, received) is { } broken)
                    Console.Out.WriteLine(broken); // plain: the console would wrap a long line
                string verified = store.ReadVerified(id) is { } v ? TextRules.Normalize(v) : "";
                string oldName = File.Exists(store.VerifiedPath(id)) ? ctx.Display(store.VerifiedPath(id)) : "/dev/null";
                DiffPrinter.Print(console, UnifiedDiff.Lines(verified, received, oldName, ctx.Display(store.ReceivedPath(id)), where: SnapshotLocation.Describe));
                // The file's diff moves sections between the shared part and the outcomes; say what changed in the states.
                if (Summary(store, id, verified, received) is { } summary)
                    Console.Out.WriteLine(summary);
            }
        }
        if (count == 0)
            console.WriteLine("no received snapshots");
        return count == 0 ? ExitCodes.Ok : ExitCodes.Findings;
    }

    // Which combinations' states changed (the file's text also moves what stays the same), and where each outcome's state diff is.
    private static string? Summary(SnapshotStore store, string id, string verified, string received)
    {
        string path = store.RepoRelative(store.VerifiedPath(id));
        ScenarioChange c;
        try
        {
            c = ReviewReport.Analyze(new SnapshotPair(id, verified.Length == 0 ? null : verified, received, path, path, path));
        }
        catch (FormatException)
        {
            return null;
        }
        if (c.Status != ChangeStatus.Changed || c.ChangedFormula is not { } f)
            return null;
        int lines = c.Outcomes.Where(o => o.Changed > 0).Max(o => ReviewReport.StateDiff(c.Id, o).Count(ch => ch == '\n'));
        return $"{id}: {c.ChangedCombinations.Count} of {c.Combinations} combinations changed state: {f}; "
            + $"{ReviewReport.Command(new SnapshotComparison("", 1, []), path, lines)} shows each changed outcome's state diff";
    }
}
