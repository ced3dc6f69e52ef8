using System.CommandLine;
using KernelMm.Harness.Compare;
using KernelMm.Harness.Matrix;
using KernelMm.Patches;

namespace KernelMm.Cli.Commands;

/// <summary><c>kmm compare SCENARIO --base PATCHES --head PATCHES</c>: two combinations side by side, the 0-day robot's way.</summary>
internal static class CompareCommand
{
    public static Command Create()
    {
        var scenario = new Argument<string>("scenario") { Description = "A scenario file, inside Scenarios/ or anywhere else." };
        var basePatches = new Option<string>("--base")
        {
            Description = "The base combination: comma-separated patch ids, 'none' (the default) or 'all'.",
            DefaultValueFactory = _ => "none",
        };
        var headPatches = new Option<string>("--head")
        {
            Description = "The head combination: comma-separated patch ids, 'none' or 'all' (the default).",
            DefaultValueFactory = _ => "all",
        };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Compare this checkpoint only (default: every one)." };
        var command = new Command("compare", "Compare two combinations of a scenario: one row per metric that differs, largest change first.")
        {
            scenario, basePatches, headPatches, checkpoint,
        };
        command.SetAction(r => Cli.Guard(() => Execute(r.GetValue(scenario)!, r.GetValue(basePatches)!, r.GetValue(headPatches)!, r.GetValue(checkpoint))));
        return command;
    }

    private static int Execute(string path, string basePatches, string headPatches, string? checkpoint)
    {
        var ctx = CliContext.Create();
        if (!File.Exists(path))
            throw new UsageException($"no such scenario: {path}");
        Combination b, h;
        try
        {
            b = ctx.Series.Parse(basePatches);
            h = ctx.Series.Parse(headPatches);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        var file = ctx.Repo.Describe(path);
        var compiled = new Harness.Compilation.ScenarioCompiler(ctx.Repo.CacheDir, ctx.Display).Compile(file);
        if (!compiled.Succeeded)
        {
            foreach (var d in compiled.Errors)
                Console.Error.WriteLine(d);
            return ExitCodes.Usage;
        }
        var matrix = new MatrixRunner(ctx.Limits, ctx.Display);
        var runs = new[] { b, h }.AsParallel().AsOrdered().Select(c => matrix.RunGuarded(compiled.Scenario!, c)).ToList();
        foreach (var failed in runs.Where(r => r.State is null))
        {
            Console.Error.WriteLine($"{failed.Failure} [patches: {failed.Combination.Label}]");
            return ExitCodes.Findings;
        }
        var sections = CompareTable.Build(runs[0].State!, runs[1].State!, checkpoint);
        if (checkpoint is not null && sections.Count == 0)
            throw new UsageException($"--checkpoint '{checkpoint}': neither combination has such a checkpoint");
        Console.Out.Write(CompareTable.Render(file.Name, b.Label, h.Label, sections));
        return ExitCodes.Ok;
    }
}
