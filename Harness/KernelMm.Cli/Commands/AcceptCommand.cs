using System.CommandLine;

namespace KernelMm.Cli.Commands;

/// <summary><c>kmm accept [paths]</c>: received snapshots become verified; orphans are removed.</summary>
internal static class AcceptCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths")
        {
            Description = "Scenario (or snapshot) files or folders to accept (default: all).",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var command = new Command("accept", "Move received snapshots over the verified ones and remove orphan snapshots.") { paths };
        command.SetAction(r => Cli.Guard(() => Execute(r.GetValue(paths) ?? [])));
        return command;
    }

    private static int Execute(string[] paths)
    {
        var ctx = CliContext.Create();
        bool any = false;
        // Every series' snapshots: a path under Scenarios/ covers them all, one under Snapshots-upstream/ only that series'.
        foreach (var store in ctx.Stores)
        {
            var (accepted, removed) = store.Accept(ctx.Repo.Scope(paths, store.SnapshotsDir));
            foreach (var id in accepted)
                Console.WriteLine($"accepted {ctx.Display(store.VerifiedPath(id))}");
            foreach (var o in removed)
                Console.WriteLine($"removed orphan {ctx.Display(o.Path)}");
            any |= accepted.Count > 0 || removed.Count > 0;
        }
        if (!any)
            Console.WriteLine("nothing to accept");
        return ExitCodes.Ok;
    }
}
