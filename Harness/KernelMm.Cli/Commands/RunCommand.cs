using System.CommandLine;
using KernelMm.Cli.Output;
using KernelMm.Harness.Outcomes;
using KernelMm.Harness.Repo;
using KernelMm.Harness.Snapshots;
using KernelMm.Harness.Suite;
using Spectre.Console;

namespace KernelMm.Cli.Commands;

/// <summary>
/// <c>kmm run [paths] [--series S]</c>: every scenario under every combination of each series
/// (by default the posted one, then each other series whose snapshot folder the clone keeps:
/// Snapshots-upstream/ here), each verified against its own series' snapshots.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths")
        {
            Description = "Scenario files or folders (default: everything under Scenarios/). A script outside Scenarios/ is run and summarised, never verified.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var maxOps = new Option<long?>("--max-ops") { Description = "Operation budget per combination (default 20000000, or KMM_MAX_OPS)." };
        var timeout = new Option<double?>("--timeout") { Description = "Wall-clock limit per combination in seconds (default 60, or KMM_TIMEOUT)." };
        var shard = new Option<string?>("--shard") { Description = "Run shard I of N only (e.g. 1/4), for a CI matrix: the scenarios dealt out by their cost (measured by the last unsharded run, else estimated from their snapshots); shard 1 also looks for orphans." };
        var series = CliContext.SeriesOption(allowAll: true);
        var patches = new Option<string[]>("--patches")
        {
            Description = "Run only these combinations (comma-separated ids, 'none' or 'all'; repeat the option for more), for a quick look: summarised, never verified, no snapshot written.",
            Arity = ArgumentArity.OneOrMore,
        };
        var command = new Command("run", "Run scenarios under every patch combination and verify their snapshots.") { paths, maxOps, timeout, shard, series, patches };
        command.SetAction(r => Cli.Guard(() => r.GetValue(patches) is { Length: > 0 } subset
            ? ExecuteSubset(r.GetValue(paths) ?? [], subset, r.GetValue(maxOps), r.GetValue(timeout), r.GetValue(series))
            : Execute(r.GetValue(paths) ?? [], r.GetValue(maxOps), r.GetValue(timeout), r.GetValue(shard), r.GetValue(series))));
        return command;
    }

    /// <summary>
    /// <c>kmm run --patches a,b [--patches none]</c>: each scenario under the combinations given
    /// only, one line per combination (checkpoints and findings, or the failure with its line),
    /// with the combinations that end in the same state named together. Nothing is verified
    /// or written: a subset of the matrix cannot make a snapshot.
    /// </summary>
    private static int ExecuteSubset(string[] paths, string[] specs, long? maxOps, double? timeout, string? seriesSpec)
    {
        var ctx = CliContext.Create(maxOps, timeout, seriesSpec);
        var combinations = new List<Patches.Combination>();
        foreach (var spec in specs)
        {
            try
            {
                var c = ctx.Series.Parse(spec);
                if (!combinations.Contains(c))
                    combinations.Add(c);
            }
            catch (ArgumentException e)
            {
                throw new UsageException($"--patches {spec}: {e.Message}");
            }
        }
        var files = ctx.Discover(paths);
        if (files.Count == 0)
        {
            Console.Out.WriteLine("no scenarios found");
            return ExitCodes.Ok;
        }
        var runner = ctx.Runner();
        int exit = ExitCodes.Ok;
        foreach (var f in files)
        {
            var states = new List<(string Tag, string State)>();
            foreach (var c in combinations)
            {
                string tag = ScenarioReport.Tag(c);
                var (compile, result) = runner.Show(f, c);
                if (result is null)
                {
                    foreach (var d in compile.Errors)
                        Console.Error.WriteLine(d);
                    return ExitCodes.Usage;
                }
                if (result.State is null)
                {
                    Console.Out.WriteLine($"{f.DisplayPath} {tag}: failed: {result.Failure}");
                    if (result.Failure?.SourceLine is { Length: > 0 } line)
                        Console.Out.WriteLine($"    {line}");
                    exit = ExitCodes.Findings;
                    continue;
                }
                var same = states.FirstOrDefault(s => s.State == result.State);
                int checkpoints = Harness.State.CheckpointState.Parse(result.State).Count;
                Console.Out.WriteLine($"{f.DisplayPath} {tag}: {SnapshotRenderer.Plural(checkpoints, "checkpoint")}, "
                    + $"{SnapshotRenderer.Plural(result.Findings, "finding")}{(same.Tag is null ? "" : $", the same state as {same.Tag}")}");
                if (result.Findings > 0)
                    exit = ExitCodes.Findings;
                states.Add((tag, result.State));
            }
        }
        Console.Out.WriteLine($"{SnapshotRenderer.Plural(combinations.Count, "combination")} of {ctx.Series.CombinationCount}: not verified, no snapshot written (`kmm show` prints a state, `kmm run` without --patches verifies)");
        return exit;
    }

    private static int Execute(string[] paths, long? maxOps, double? timeout, string? shardSpec = null, string? seriesSpec = null)
    {
        var ctx = CliContext.Create(maxOps, timeout);
        var seriesList = seriesSpec is null ? ctx.KeptSeries() : CliContext.ParseSeries(seriesSpec, allowAll: true);
        var shard = Shard.All;
        try
        {
            shard = shardSpec is null ? shard : Shard.Parse(shardSpec);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        var discovered = ctx.Discover(paths);
        var costs = ScenarioCosts.Load(ctx.Repo);
        var files = shard.Count == 1 ? discovered : shard.Select(discovered, ShardCosts(ctx, costs, seriesList, discovered));
        var console = ConsoleFactory.Create(Console.Out);
        var runners = seriesList.Select(ctx.Runner).ToList();
        var reports = new List<ScenarioReport>();
        ctx.Compiler.Prefetch(files);

        if (files.Count == 0)
            console.WriteLine("no scenarios found");
        else if (ConsoleFactory.Redirected)
        {
            var progress = new ProgressLines(Console.Error, files.Count * runners.Count);
            foreach (var runner in runners)
                foreach (var f in files)
                {
                    progress.Starting(f, runner.Series.CombinationCount, runner.Series == Patches.Series.Posted ? null : runner.Series.Name);
                    var report = runner.Run(f, _ => progress.CombinationDone());
                    progress.Finished(report);
                    reports.Add(report);
                }
        }
        else
            console.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(p =>
                {
                    var task = p.AddTask("combinations", maxValue: files.Count * (double)seriesList.Sum(s => s.CombinationCount));
                    foreach (var runner in runners)
                        foreach (var f in files)
                        {
                            task.Description = Markup.Escape(runner.Series == Patches.Series.Posted ? f.DisplayPath : $"{f.DisplayPath} [{runner.Series.Name}]");
                            var report = runner.Run(f, _ => task.Increment(1));
                            if (report.Status == ScenarioStatus.CompileError)
                                task.Increment(runner.Series.CombinationCount);
                            reports.Add(report);
                        }
                    task.Description = "done";
                });

        // Only an unsharded run measures: the shards of one matrix must all deal from the same costs.
        if (shard.Count == 1 && reports.Any(r => r.Status != ScenarioStatus.CompileError))
        {
            foreach (var r in reports.Where(r => r.File.SnapshotId is not null && r.Status is not (ScenarioStatus.CompileError or ScenarioStatus.Stopped)))
                costs.Record(CostKey(r.Series, r.File), r.RunTime.TotalSeconds);
            costs.Save();
        }

        foreach (var problem in reports.SelectMany(r => r.Problems()))
            Console.Error.WriteLine(problem);
        foreach (var note in reports.SelectMany(r => r.Notes).Distinct(StringComparer.Ordinal))
            Console.Error.WriteLine("warning: " + note);
        if (reports.Any(r => r.Status == ScenarioStatus.Stopped))
            Console.Error.WriteLine($"a limit stopped a run (operations {ctx.Limits.MaxOperations}, wall clock {ctx.Limits.WallClock.TotalSeconds:0.###} s): "
                + "fix the loop, or raise them with --max-ops / --timeout (KMM_MAX_OPS / KMM_TIMEOUT) if the scenario is only slow");

        if (reports.Count > 0)
            ResultTable.Print(console, reports);
        foreach (var r in reports.Where(r => r.Status == ScenarioStatus.Ran))
            PrintOutcomes(console, r);

        bool orphansFail = false;
        if (shard.ChecksOrphans)
            foreach (var series in seriesList)
                orphansFail |= ReportOrphans(ctx, ctx.StoreFor(series), paths);
        if (reports.Any(r => r.Status is ScenarioStatus.Changed or ScenarioStatus.New))
            console.WriteLine(ctx.Policy.Mode == UpdateMode.No
                ? "snapshots differ (KMM_UPDATE=no: nothing written)"
                : "review with `kmm diff`, then `kmm accept`");

        if (reports.Any(r => r.Status == ScenarioStatus.CompileError))
            return ExitCodes.Usage;
        return reports.All(r => r.Passed && !r.UnreviewedFindings) && !orphansFail ? ExitCodes.Ok : ExitCodes.Findings;
    }

    /// <summary>Each scenario's cost over the series this run covers: measured, else estimated from that series' verified snapshot.</summary>
    private static IReadOnlyList<double> ShardCosts(CliContext ctx, ScenarioCosts costs, IReadOnlyList<Patches.Series> seriesList, IReadOnlyList<ScenarioFile> files)
    {
        var total = new double[files.Count];
        foreach (var series in seriesList)
        {
            var store = ctx.StoreFor(series);
            var each = costs.For(files, f => CostKey(series.Name, f), f => f.SnapshotId is { } id ? store.ReadVerified(id) : null, series.CombinationCount);
            for (int i = 0; i < total.Length; i++)
                total[i] += each[i];
        }
        return total;
    }

    /// <summary>The scenario's name, with its series unless it is the posted one.</summary>
    private static string CostKey(string series, ScenarioFile f) => series == Patches.PostedSeries.Name ? f.Name : $"{series}:{f.Name}";

    private static void PrintOutcomes(IAnsiConsole console, ScenarioReport r)
    {
        console.WriteLine($"{r.Label}: {SnapshotRenderer.Plural(r.Outcomes.Count, "outcome")}");
        for (int i = 0; i < r.Outcomes.Count; i++)
            console.WriteLine($"  outcome {i + 1} of {r.Outcomes.Count}: {r.Outcomes[i].Formula} ({SnapshotRenderer.Plural(r.Outcomes[i].Combinations.Count, "combination")})");
    }

    /// <summary>Lists orphan snapshots; returns whether they fail the run (in CI).</summary>
    private static bool ReportOrphans(CliContext ctx, Harness.Snapshots.SnapshotStore store, IReadOnlyList<string> paths)
    {
        var scope = ctx.OrphanScope(paths, store);
        if (scope is null)
            return false;
        var orphans = store.FindOrphans(scope);
        foreach (var o in orphans)
            Console.Error.WriteLine($"{ctx.Display(o.Path)}: orphan snapshot: no {ctx.Display(store.ScenarioPath(o.Id))}"
                + (ctx.Policy.OrphansFail
                    ? " (fails in CI: delete it, or run `kmm accept` to remove it, and commit)"
                    : " (`kmm accept` removes it)"));
        return orphans.Count > 0 && ctx.Policy.OrphansFail;
    }
}
