using System.CommandLine;
using KernelMm.Cli.Output;
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
            }
        }
        if (count == 0)
            console.WriteLine("no received snapshots");
        return count == 0 ? ExitCodes.Ok : ExitCodes.Findings;
    }
}
