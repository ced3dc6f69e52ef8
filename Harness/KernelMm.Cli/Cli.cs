using System.CommandLine;
using KernelMm.Cli.Commands;

namespace KernelMm.Cli;

/// <summary>The <c>kmm</c> command: run, accept, diff, show.</summary>
internal static class Cli
{
    public static RootCommand Create() => new("kmm: run kernel mm scenarios under every patch combination and verify their snapshots.")
    {
        RunCommand.Create(),
        AcceptCommand.Create(),
        DiffCommand.Create(),
        ShowCommand.Create(),
        BisectCommand.Create(),
        CheckCommand.Create(),
        CompareCommand.Create(),
        ReportCommand.Create(),
        BenchCommand.Create(),
        OracleCommand.Create(),
        FuzzCommand.Create(),
    };

    /// <summary>KMM_MAX_MEMORY's default: the bench's scale case holds about 8 GiB; everything else far less.</summary>
    private const long DefaultMaxMemoryMiB = 4096, BenchMaxMemoryMiB = 16384;

    public static int Main(string[] args)
    {
        // A model bug (an endless loop inside one call, memory without bound) cannot be
        // stopped from inside the run: the watchdog reports where and ends the process.
        try
        {
            long max = Harness.Matrix.RunLimits.MaxMemoryFromEnvironment(args.FirstOrDefault() == "bench" ? BenchMaxMemoryMiB : DefaultMaxMemoryMiB);
            Harness.Matrix.RunWatchdog.Arm(max, report => Harness.Matrix.RunWatchdog.ExitWith(report, ExitCodes.Findings));
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"kmm: {e.Message}");
            return ExitCodes.Usage;
        }
        var parse = Create().Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
                Console.Error.WriteLine($"kmm: {e.Message}");
            Console.Error.WriteLine("kmm --help lists the commands");
            // git bisect run reads 1-127 as "bad": a mistyped `kmm check` must abort the bisection instead.
            return parse.CommandResult.Command.Name == CheckCommand.Name ? (int)Harness.Bisect.CheckResult.Abort : ExitCodes.Usage;
        }
        return parse.Invoke();
    }

    /// <summary>Runs a command body, turning a usage mistake into its message and exit code 2.</summary>
    public static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"kmm: {e.Message}");
            return ExitCodes.Usage;
        }
    }
}
