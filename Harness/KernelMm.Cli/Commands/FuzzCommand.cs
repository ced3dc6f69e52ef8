using System.CommandLine;
using System.Globalization;
using KernelMm.Harness.Fuzz;

namespace KernelMm.Cli.Commands;

/// <summary>
/// <c>kmm fuzz [--minutes N] [--seed S]</c>: random workloads under every combination with
/// every invariant checked after every call, for as long as asked; a failure is shrunk to
/// a minimal workload and printed as a ready-to-run scenario (exit 1).
/// </summary>
internal static class FuzzCommand
{
    public static Command Create()
    {
        var minutes = new Option<double>("--minutes") { Description = "How long to run (default 1).", DefaultValueFactory = _ => 1 };
        var seed = new Option<ulong>("--seed") { Description = "The first seed (each batch of workloads takes the next; default 1).", DefaultValueFactory = _ => 1 };
        var steps = new Option<int>("--steps") { Description = "At most this many calls per workload (default 40).", DefaultValueFactory = _ => 40 };
        var output = new Option<string?>("--out") { Description = "Write the minimal failing scenario to this .csx file." };
        var command = new Command("fuzz", "Run random workloads under every patch combination, every invariant checked after every call; shrink a failure to a ready-to-run scenario.")
        {
            minutes, seed, steps, output,
        };
        command.SetAction(r => Cli.Guard(() => Execute(r.GetValue(minutes), r.GetValue(seed), r.GetValue(steps), r.GetValue(output))));
        return command;
    }

    private static int Execute(double minutes, ulong seed, int steps, string? output)
    {
        if (minutes <= 0 || double.IsNaN(minutes))
            throw new UsageException("--minutes must be positive");
        if (steps < 1)
            throw new UsageException("--steps must be at least 1");
        var ctx = CliContext.Create();
        var campaign = new FuzzCampaign(ctx.Series, steps, Environment.ProcessorCount);
        var report = campaign.RunFor(seed, TimeSpan.FromMinutes(minutes), progress: r =>
            Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"kmm fuzz: {r.Workloads} workloads, {r.CombinationRuns} combination runs, {r.Elapsed.TotalSeconds:0} s")));
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{report.Workloads} workloads ({report.CombinationRuns} combination runs, {report.Calls} calls, {report.CheckPasses} invariant check passes) in {report.Elapsed.TotalSeconds:0.0} s"));
        if (report.Failure is null)
        {
            Console.Out.WriteLine("no finding");
            return ExitCodes.Ok;
        }
        Console.Out.WriteLine($"finding: {report.Failure}");
        Console.Out.WriteLine();
        Console.Out.Write(report.Script);
        if (output is not null)
        {
            File.WriteAllText(output, report.Script);
            Console.Error.WriteLine($"kmm fuzz: minimal scenario written to {output}");
        }
        return ExitCodes.Findings;
    }
}
