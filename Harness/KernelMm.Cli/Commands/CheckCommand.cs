using System.CommandLine;
using KernelMm.Harness.Bisect;

namespace KernelMm.Cli.Commands;

/// <summary>
/// <c>kmm check SCENARIO --patches a,b [--where EXPR]</c>: one combination judged, for
/// <c>git bisect run</c>: exit 0 good, 1 bad, 125 cannot test, 128 a usage mistake (which
/// aborts the bisection instead of marking every revision bad).
/// </summary>
internal static class CheckCommand
{
    public const string Name = "check";

    public static Command Create()
    {
        var scenario = new Argument<string>("scenario") { Description = "A scenario file." };
        var patches = new Option<string>("--patches")
        {
            Description = "The combination: comma-separated patch ids, 'none' or 'all' (the default).",
            DefaultValueFactory = _ => "all",
        };
        var where = new Option<string?>("--where")
        {
            Description = "The behaviour (bad when it holds): a C# boolean expression over a checkpoint's state. Default: the state differs from the state with no patches applied.",
        };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Judge this checkpoint only (default: any checkpoint)." };
        var series = CliContext.SeriesOption(allowAll: false);
        var (fixedOption, termOld, termNew) = BisectCommand.TermOptions();
        var command = new Command(Name, "Judge one combination for `git bisect run`: exit 0 good, 1 bad, 125 cannot test, 128 usage error.")
        {
            scenario, patches, where, checkpoint, series, fixedOption, termOld, termNew,
        };
        command.SetAction(r => Execute(r.GetValue(scenario)!, r.GetValue(patches)!, r.GetValue(where), r.GetValue(checkpoint), r.GetValue(series),
            r.GetValue(fixedOption), r.GetValue(termOld), r.GetValue(termNew)));
        return command;
    }

    private static int Execute(string path, string patches, string? where, string? checkpoint, string? series,
        bool fixedMode, string? termOld, string? termNew)
    {
        CliContext ctx;
        BisectTerms terms;
        try
        {
            ctx = CliContext.Create(series: series);
            terms = BisectCommand.Terms(fixedMode, termOld, termNew);
            if (where is not null && where.Trim().Length == 0)
                throw new UsageException("--where needs an expression");
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"kmm: {e.Message}");
            return (int)CheckResult.Abort;
        }
        var outcome = BisectCheck.Run(ctx.Repo, ctx.Series, path, patches, where, checkpoint, ctx.Limits, fixedMode, terms);
        if (outcome.Result is CheckResult.Good or CheckResult.Bad)
            Console.Out.WriteLine(outcome.Message);
        else
            Console.Error.WriteLine(outcome.Message);
        return (int)outcome.Result;
    }
}
