using System.CommandLine;
using KernelMm.Harness.Matrix;
using KernelMm.Harness.Oracle;
using KernelMm.Patches;

namespace KernelMm.Cli.Commands;

/// <summary>
/// <c>kmm oracle SCENARIO [--series S] [--patches P|auto]</c>: the scenario's process calls replayed on
/// this machine's kernel, its figures beside the model's. Exit 0 when every figure agrees
/// (or differs only by a declared difference of era), 1 when one differs, 125 when this
/// host cannot run the replay, 2 for usage errors.
/// </summary>
internal static class OracleCommand
{
    /// <summary>git bisect's "cannot test": the host is not Linux x86-64 with /proc.</summary>
    public const int CannotRun = 125;

    public static Command Create()
    {
        var scenario = new Argument<string>("scenario") { Description = "A scenario file." };
        var patches = new Option<string>("--patches")
        {
            Description = "The combination: comma-separated patch ids, 'none', 'all', or 'auto' (what the host kernel corresponds to: without --series, the series too). Default: auto.",
            DefaultValueFactory = _ => "auto",
        };
        var series = CliContext.SeriesOption(allowAll: false);
        var command = new Command("oracle", "Replay a scenario's process calls on this machine's kernel and compare its figures with the model's.") { scenario, patches, series };
        command.SetAction(r => Cli.Guard(() => Execute(r.GetValue(scenario)!, r.GetValue(patches)!, r.GetValue(series))));
        return command;
    }

    private static int Execute(string path, string patches, string? seriesName)
    {
        var ctx = CliContext.Create(series: seriesName);
        if (!File.Exists(path))
            throw new UsageException($"no such scenario: {path}");
        var file = ctx.Repo.Describe(path);
        Combination? asked = null;
        if (patches != "auto")
        {
            try { asked = ctx.Series.Parse(patches); }
            catch (ArgumentException e) { throw new UsageException(e.Message); }
        }
        var compiled = new Harness.Compilation.ScenarioCompiler(ctx.Repo.CacheDir, ctx.Display).Compile(file);
        if (!compiled.Succeeded)
        {
            foreach (var d in compiled.Errors)
                Console.Error.WriteLine(d);
            return ExitCodes.Usage;
        }
        try
        {
            var result = OracleRunner.Run(compiled.Scenario!, ctx.Limits, host => asked ?? OracleRunner.Auto(seriesName is null ? null : ctx.Series, host));
            Console.Out.Write(OracleReport.Render(result));
            return result.Agrees ? ExitCodes.Ok : ExitCodes.Findings;
        }
        catch (OracleHostException e)
        {
            Console.Error.WriteLine($"kmm oracle: this host cannot run the replay: {e.Message}");
            return CannotRun;
        }
    }
}
