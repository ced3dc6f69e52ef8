using System.CommandLine;
using System.Globalization;
using KernelMm.Harness.Snapshots;

namespace KernelMm.Cli.Commands;

/// <summary>
/// <c>kmm lines [paths]</c>: each verified snapshot's lines as printed and as every outcome
/// printed whole (<see cref="SnapshotSize"/>), with each series' total and ratio: the measure
/// of how much the shared part and the references save, on the same states.
/// </summary>
internal static class LinesCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths")
        {
            Description = "Scenario (or snapshot) files or folders (default: all).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command("lines", "Count each verified snapshot's lines, as printed and with every outcome printed whole.") { paths };
        command.SetAction(r => Cli.Guard(() => Execute(r.GetValue(paths) ?? [])));
        return command;
    }

    private static int Execute(string[] paths)
    {
        var ctx = CliContext.Create();
        var rows = new List<(string Name, SnapshotSize Size)>();
        var totals = new List<(string Name, SnapshotSize Size)>();
        foreach (var store in ctx.Stores)
        {
            var ids = store.VerifiedIds(ctx.Repo.Scope(paths, store.SnapshotsDir));
            if (ids.Count == 0)
                continue;
            var total = new SnapshotSize(0, 0);
            foreach (var id in ids)
            {
                string text = store.ReadVerified(id)!;
                SnapshotSize size;
                try
                {
                    size = SnapshotSize.Of(text);
                }
                catch (FormatException e)
                {
                    throw new UsageException($"{ctx.Display(store.VerifiedPath(id))}: {e.Message}");
                }
                rows.Add((ctx.Display(store.VerifiedPath(id)), size));
                total += size;
            }
            totals.Add(($"{store.RepoRelative(store.SnapshotsDir)}/ ({SnapshotRenderer.Plural(ids.Count, "snapshot")})", total));
        }
        if (rows.Count == 0)
        {
            Console.WriteLine("no verified snapshots");
            return ExitCodes.Ok;
        }
        int width = rows.Concat(totals).Max(r => r.Name.Length);
        Console.WriteLine($"{"snapshot".PadRight(width)}  {"lines",7}  {"whole",7}  ratio");
        foreach (var (name, size) in rows.Concat(totals))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name.PadRight(width)}  {size.Lines,7}  {size.WholeLines,7}  {size.Ratio:0.00}x"));
        Console.WriteLine("whole: the same outcomes with every checkpoint and section printed whole, each outcome apart");
        return ExitCodes.Ok;
    }
}
