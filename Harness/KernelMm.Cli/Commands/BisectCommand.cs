using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using KernelMm.Harness.Bisect;
using KernelMm.Harness.Compilation;

namespace KernelMm.Cli.Commands;

/// <summary>
/// <c>kmm bisect SCENARIO [--where EXPR] [--checkpoint NAME]</c>: which patch of the series (in
/// series order, as git bisect), which smallest sets of patches, make a behaviour appear, and
/// what each patch does to the counters.
/// </summary>
internal static class BisectCommand
{
    public static Command Create()
    {
        var scenario = new Argument<string>("scenario") { Description = "A scenario file, inside Scenarios/ or anywhere else." };
        var where = new Option<string?>("--where")
        {
            Description = "The behaviour: a C# boolean expression over a checkpoint's state, e.g. 'Vmstat[\"nr_overhead\"] > 256' "
                + "(Vmstat, Events, Meminfo, Recorded, Processes, Memcg, Warnings, KernelPageTables). "
                + "Default: the state differs from the state with no patches applied.",
        };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Judge this checkpoint only (default: the behaviour at any checkpoint)." };
        var quick = new Option<bool>("--quick") { Description = "Only the series-order bisection, running only the prefixes it tests." };
        var maxCombinations = new Option<int>("--max-combinations")
        {
            Description = "Judge every combination when there are at most this many (default 64); beyond, ddmin and one-factor-at-a-time effects.",
            DefaultValueFactory = _ => new BisectOptions().MaxCombinations,
        };
        var maxOps = new Option<long?>("--max-ops") { Description = "Operation budget per combination (default 20000000, or KMM_MAX_OPS)." };
        var timeout = new Option<double?>("--timeout") { Description = "Wall-clock limit per combination in seconds (default 60, or KMM_TIMEOUT)." };
        var series = CliContext.SeriesOption(allowAll: false);
        var (fixedOption, termOld, termNew) = TermOptions();
        var command = new Command("bisect", "Find the patch (series order) and the smallest patch sets that make a behaviour appear, and each patch's effects.")
        {
            scenario, where, checkpoint, quick, maxCombinations, maxOps, timeout, series, fixedOption, termOld, termNew,
        };
        command.SetAction(r => Cli.Guard(() => Execute(r.GetValue(scenario)!, r.GetValue(where), r.GetValue(checkpoint),
            new BisectOptions(r.GetValue(quick), r.GetValue(maxCombinations)), r.GetValue(maxOps), r.GetValue(timeout), r.GetValue(series),
            r.GetValue(fixedOption), Terms(r.GetValue(fixedOption), r.GetValue(termOld), r.GetValue(termNew)))));
        return command;
    }

    /// <summary><c>--fixed</c>, <c>--term-old</c>, <c>--term-new</c>: shared with <c>kmm check</c>.</summary>
    internal static (Option<bool> Fixed, Option<string?> TermOld, Option<string?> TermNew) TermOptions() =>
    (
        new Option<bool>("--fixed")
        {
            Description = "Look for what makes the behaviour go away: a combination where the condition no longer holds is 'fixed' (git bisect's new), one where it holds 'broken' (old).",
        },
        new Option<string?>("--term-old") { Description = "The word for the old state (default 'good', or 'broken' with --fixed), as git bisect's --term-old." },
        new Option<string?>("--term-new") { Description = "The word for the new state (default 'bad', or 'fixed' with --fixed), as git bisect's --term-new." }
    );

    internal static BisectTerms Terms(bool fixedMode, string? termOld, string? termNew)
    {
        try
        {
            return BisectTerms.From(fixedMode, termOld, termNew);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
    }

    private static int Execute(string path, string? where, string? checkpoint, BisectOptions options, long? maxOps, double? timeout, string? series,
        bool fixedMode, BisectTerms terms)
    {
        var sw = Stopwatch.StartNew();
        var ctx = CliContext.Create(maxOps, timeout, series);
        if (options.MaxCombinations < 1)
            throw new UsageException("--max-combinations must be positive");
        var (condition, compiled, errors) = Prepare(ctx, path, where, checkpoint, fixedMode);
        if (compiled is null)
        {
            foreach (var e in errors)
                Console.Error.WriteLine(e);
            return ExitCodes.Usage;
        }

        var session = BisectSession.For(compiled, ctx.Series, condition!, ctx.Limits, ctx.Display);
        CheckCheckpoint(session, checkpoint);
        var report = Bisector.Run(compiled.File.Name, session, options);
        Console.Out.Write(BisectRenderer.Render(report, terms));
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"\n{session.Runs} combinations run in {session.RunTime.TotalSeconds:0.00} s ({sw.Elapsed.TotalSeconds:0.00} s in all)"));
        return condition is WhereCondition { NeverEvaluated: true } ? ExitCodes.Usage : ExitCodes.Ok;
    }

    /// <summary>The condition and the compiled scenario, or the errors (the scenario's or the expression's) that stop them.</summary>
    internal static (Condition? Condition, CompiledScenario? Scenario, IReadOnlyList<ScriptDiagnostic> Errors) Prepare(
        CliContext ctx, string path, string? where, string? checkpoint, bool inverted = false)
    {
        if (!File.Exists(path))
            throw new UsageException($"no such scenario: {path}");
        Condition condition;
        if (where is null)
        {
            condition = new DiffersCondition(checkpoint) { Inverted = inverted };
        }
        else
        {
            if (where.Trim().Length == 0)
                throw new UsageException("--where needs an expression, e.g. --where 'Vmstat[\"nr_overhead\"] > 256'");
            var (expression, errors) = WhereExpression.Compile(where, ctx.Repo.CacheDir);
            if (expression is null)
                return (null, null, errors);
            condition = new WhereCondition(expression, checkpoint) { Inverted = inverted };
        }
        var compiled = new ScenarioCompiler(ctx.Repo.CacheDir, ctx.Display).Compile(ctx.Repo.Describe(path));
        return compiled.Succeeded ? (condition, compiled.Scenario, []) : (null, null, compiled.Errors);
    }

    /// <summary>A --checkpoint the base kernel's run never reaches is a usage mistake: say which checkpoints there are.</summary>
    internal static void CheckCheckpoint(BisectSession session, string? checkpoint)
    {
        if (checkpoint is null)
            return;
        var base0 = session.Run([0])[0];
        if (base0.State is null)
            return;
        var names = Harness.State.CheckpointState.Parse(base0.State).Select(c => c.Name).ToList();
        if (!names.Contains(checkpoint))
            throw new UsageException($"--checkpoint '{checkpoint}': the scenario has no such checkpoint (it has: {string.Join(", ", names.Select(n => $"'{n}'"))})");
    }
}
