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
        LinesCommand.Create(),
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
        var root = Create();
        var parse = root.Parse(args);
        var command = parse.CommandResult.Command;
        // git bisect run reads 1-127 as "bad": a mistyped `kmm check` must abort the bisection instead.
        int usage = command.Name == CheckCommand.Name ? (int)Harness.Bisect.CheckResult.Abort : ExitCodes.Usage;
        if (UnknownCommand(root, parse) is { } unknownCommand)
        {
            Console.Error.WriteLine($"kmm: unknown command '{unknownCommand}'{Patches.Spelling.DidYouMean(unknownCommand, root.Subcommands.Select(c => c.Name))}");
            Console.Error.WriteLine("kmm --help lists the commands");
            return ExitCodes.Usage;
        }
        if (UnknownOption(parse) is { } unknownOption)
        {
            // An argument that takes paths would take "--frob" for one; an option it is not.
            var known = command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).Where(n => n.StartsWith('-')).Distinct();
            Console.Error.WriteLine($"kmm {command.Name}: unknown option '{unknownOption}'{Patches.Spelling.DidYouMean(unknownOption, known)}");
            Console.Error.WriteLine($"kmm {command.Name} --help lists its options");
            return usage;
        }
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors)
                Console.Error.WriteLine($"kmm: {e.Message}");
            Console.Error.WriteLine("kmm --help lists the commands");
            return usage;
        }
        return parse.Invoke();
    }

    /// <summary>The first word when it names no command (<c>kmm frob</c>), else null.</summary>
    private static string? UnknownCommand(RootCommand root, ParseResult parse)
    {
        if (parse.CommandResult.Command != root)
            return null;
        var first = parse.Tokens.FirstOrDefault();
        return first is not null && !first.Value.StartsWith('-') ? first.Value : null;
    }

    /// <summary>The first token that looks like an option but is none of the command's (before a <c>--</c>), else null.</summary>
    private static string? UnknownOption(ParseResult parse)
    {
        foreach (var t in parse.Tokens)
        {
            if (t.Type == System.CommandLine.Parsing.TokenType.DoubleDash)
                return null;
            if (t.Type == System.CommandLine.Parsing.TokenType.Argument && t.Value.Length > 1 && t.Value[0] == '-' && !char.IsDigit(t.Value[1]))
                return t.Value;
        }
        foreach (var e in parse.UnmatchedTokens)
            if (e.StartsWith('-'))
                return e;
        return null;
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
