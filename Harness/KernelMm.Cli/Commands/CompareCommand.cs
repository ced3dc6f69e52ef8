using System.CommandLine;
using KernelMm.Harness.Compare;
using KernelMm.Harness.Matrix;
using KernelMm.Patches;

namespace KernelMm.Cli.Commands;

/// <summary>
/// <c>kmm compare SCENARIO --base PATCHES --head PATCHES</c>: two combinations side by side, the
/// 0-day robot's way. Each side may come from its own series (<c>--base-series</c>,
/// <c>--head-series</c>, or <c>--series</c> for both); a list of ids that only one series has
/// picks that series, so <c>--base pte-refcount --head pt-reclaim</c> puts a posting beside
/// what landed.
/// </summary>
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
        var series = CliContext.SeriesOption(allowAll: false);
        var baseSeries = new Option<string?>("--base-series") { Description = "The base combination's series (default: the one its ids belong to, else --series, else posted)." };
        var headSeries = new Option<string?>("--head-series") { Description = "The head combination's series (default: the one its ids belong to, else --series, else posted)." };
        var command = new Command("compare", "Compare two combinations of a scenario: one row per metric that differs, largest change first.")
        {
            scenario, basePatches, headPatches, checkpoint, series, baseSeries, headSeries,
        };
        command.SetAction(r => Cli.Guard(() => Execute(r.GetValue(scenario)!, r.GetValue(basePatches)!, r.GetValue(headPatches)!, r.GetValue(checkpoint),
            r.GetValue(series), r.GetValue(baseSeries), r.GetValue(headSeries))));
        return command;
    }

    private static int Execute(string path, string basePatches, string headPatches, string? checkpoint,
        string? series = null, string? baseSeries = null, string? headSeries = null)
    {
        var ctx = CliContext.Create(series: series);
        if (!File.Exists(path))
            throw new UsageException($"no such scenario: {path}");
        var b = Side(basePatches, baseSeries, series, ctx.Series);
        var h = Side(headPatches, headSeries, series, ctx.Series);
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
            Console.Error.WriteLine($"{failed.Failure} {Harness.Suite.ScenarioReport.Tag(failed.Combination)}");
            return ExitCodes.Findings;
        }
        var sections = CompareTable.Build(runs[0].State!, runs[1].State!, checkpoint);
        if (checkpoint is not null && sections.Count == 0)
            throw new UsageException($"--checkpoint '{checkpoint}': neither combination has such a checkpoint");
        Console.Out.Write(CompareTable.Render(file.Name, Label(b, h), Label(h, b), sections));
        return ExitCodes.Ok;
    }

    /// <summary>One side's combination: its own --X-series, else the series its ids belong to, else --series (posted by default).</summary>
    private static Combination Side(string patches, string? sideSeries, string? series, Series chosen)
    {
        var s = sideSeries is not null ? CliContext.ParseSeries(sideSeries, allowAll: false)[0]
            : series is null && Series.Owning(patches) is { } owner ? owner
            : chosen;
        try
        {
            return s.Parse(patches);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>The combination's label, with its series when the two sides come from different series (<c>upstream:pt-reclaim</c>).</summary>
    private static string Label(Combination c, Combination other) =>
        ReferenceEquals(c.Series, other.Series) ? c.Label : $"{c.Series.Name}:{c.Label}";
}
