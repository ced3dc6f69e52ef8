using System.CommandLine;
using System.Reflection;
using KernelMm.Cli.Output;
using KernelMm.Harness.Bench;
using Spectre.Console;

namespace KernelMm.Cli.Commands;

/// <summary>
/// <c>kmm bench</c>: the model's speed and scale, and (with <c>--host</c>) the same
/// workload on this machine's kernel. Prints <c>name=value</c> lines (medians of several
/// runs) and one <c># target ...</c> comment line per target of issue 12; on a terminal, a
/// table first. Progress goes to stderr.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var host = new Option<bool>("--host") { Description = "Also run the anonymous-memory workload on this machine's kernel (mmap/madvise/munmap), as host.* figures." };
        var runs = new Option<int>("--runs")
        {
            Description = "Runs per figure; the median is reported (default 3).",
            DefaultValueFactory = _ => 3,
        };
        var scaleRuns = new Option<int>("--scale-runs")
        {
            Description = "Runs of the 1 TiB scale case (default 1: it takes tens of seconds).",
            DefaultValueFactory = _ => 1,
        };
        var only = new Option<string?>("--only")
        {
            Description = $"Comma-separated groups to run: {string.Join(", ", BenchRunner.GroupNames)} (default: all but host; --host adds it).",
        };
        var command = new Command("bench", "Measure the model (and with --host this machine's kernel): faults, zaps, set_memory, boot, memory, the suite, the scale case.")
        {
            host, runs, scaleRuns, only,
        };
        command.SetAction(r => Cli.Guard(() => Execute(r.GetValue(host), r.GetValue(runs), r.GetValue(scaleRuns), r.GetValue(only))));
        return command;
    }

    private static int Execute(bool host, int runs, int scaleRuns, string? only)
    {
        if (runs < 1)
            throw new UsageException("--runs must be at least 1");
        if (scaleRuns < 1)
            throw new UsageException("--scale-runs must be at least 1");
        var groups = new HashSet<string>(BenchRunner.DefaultGroups, StringComparer.Ordinal);
        if (only is not null)
        {
            groups.Clear();
            foreach (var g in only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!BenchRunner.GroupNames.Contains(g))
                    throw new UsageException($"--only: no group '{g}' ({string.Join(", ", BenchRunner.GroupNames)})");
                groups.Add(g);
            }
        }
        if (host)
            groups.Add("host");

        var ctx = CliContext.Create();
        var runner = new BenchRunner(ctx.Repo, KmmCommand(), p => Console.Error.WriteLine($"kmm bench: {p}"));
        var figures = runner.Run(new BenchOptions(groups, runs, scaleRuns));
        var values = figures.ToDictionary(f => f.Name, f => f.Value);

        if (!ConsoleFactory.Redirected)
            PrintTable(ConsoleFactory.Create(Console.Out), figures, values);
        foreach (var f in figures)
            Console.Out.WriteLine(f.Line);
        foreach (var t in BenchTarget.All)
            Console.Out.WriteLine(t.Line(values));
        foreach (var n in runner.Notes)
            Console.Out.WriteLine($"# note: {n}");
        return ExitCodes.Ok;
    }

    private static void PrintTable(IAnsiConsole console, IReadOnlyList<BenchFigure> figures, IReadOnlyDictionary<string, double> values)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("figure").AddColumn(new TableColumn("median").RightAligned()).AddColumn("unit").AddColumn(new TableColumn("runs").RightAligned()).AddColumn("target");
        foreach (var f in figures)
        {
            var target = BenchTarget.All.FirstOrDefault(t => t.Name == f.Name);
            string verdict = target?.Check(values) is { } r
                ? (r.Met ? $"[green]met[/] ({Markup.Escape(target.Description)})" : $"[red]missed[/] ({Markup.Escape(target.Description)})")
                : target is null ? "" : $"[grey]not measured[/] ({Markup.Escape(target.Description)})";
            table.AddRow(Markup.Escape(f.Name), BenchFigure.Format(f.Value), f.Unit, f.Runs.ToString(System.Globalization.CultureInfo.InvariantCulture), verdict);
        }
        console.Write(table);
    }

    /// <summary>How to start this kmm again (for the suite's child runs): the apphost, or dotnet with kmm.dll.</summary>
    private static string[] KmmCommand()
    {
        string? self = Environment.ProcessPath;
        string dll = Assembly.GetEntryAssembly()?.Location is { Length: > 0 } l ? l : Path.Combine(AppContext.BaseDirectory, "kmm.dll");
        if (self is null || Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
            return [self ?? "dotnet", dll];
        return [self];
    }
}
