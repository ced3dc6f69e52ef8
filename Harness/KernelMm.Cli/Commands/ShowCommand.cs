using System.CommandLine;
using KernelMm.Harness.Pictures;
using KernelMm.Harness.Snapshots;

namespace KernelMm.Cli.Commands;

/// <summary><c>kmm show SCENARIO --patches a,b</c>: one combination's full state, in the snapshot's sections.</summary>
internal static class ShowCommand
{
    public static Command Create()
    {
        var scenario = new Argument<string>("scenario") { Description = "A scenario file, inside Scenarios/ or anywhere else." };
        var patches = new Option<string>("--patches")
        {
            Description = "The combination: comma-separated patch ids, 'none' (the default) or 'all'.",
            DefaultValueFactory = _ => "none",
        };
        var series = CliContext.SeriesOption(allowAll: false);
        var svg = new Option<string?>("--svg") { Description = "Also draw the direct map and each process's page tables at every checkpoint, from the model, into this SVG file." };
        var command = new Command("show", "Run one combination of a scenario and print its state.") { scenario, patches, series, svg };
        command.SetAction(r => Cli.Guard(() => Execute(r.GetValue(scenario)!, r.GetValue(patches)!, r.GetValue(series), r.GetValue(svg))));
        return command;
    }

    private static int Execute(string path, string patches, string? series, string? svg)
    {
        var ctx = CliContext.Create(series: series);
        if (!File.Exists(path))
            throw new UsageException($"no such scenario: {path}");
        var file = ctx.Repo.Describe(path);
        Patches.Combination combination;
        try
        {
            combination = ctx.Series.Parse(patches);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }

        // The maps are drawn from the model's tables at each checkpoint (every bit, pfns too), on the run's thread.
        var pictures = new List<StatePictures>();
        Action<string, Model.Kernel>? draw = svg is null ? null : (name, k) => pictures.Add(StatePictures.FromKernel(name, k));
        var (compile, result) = ctx.Runner().Show(file, combination, draw);
        if (result is null)
        {
            foreach (var d in compile.Errors)
                Console.Error.WriteLine(d);
            return ExitCodes.Usage;
        }
        if (result.State is null)
        {
            Console.Error.WriteLine($"{result.Failure} {Harness.Suite.ScenarioReport.Tag(combination)}");
            if (result.Failure?.SourceLine is { Length: > 0 } line)
                Console.Error.WriteLine($"    {result.Failure.Location![(result.Failure.Location!.LastIndexOf(':') + 1)..]} | {line}");
            if (result.Failure?.ScriptStack is { Length: > 0 } stack)
                Console.Error.Write(stack);
            return ExitCodes.Findings;
        }
        Console.Out.Write(SnapshotRenderer.RenderOne(file.Name, combination, result.State));
        foreach (var note in result.Notes)
            Console.Error.WriteLine("warning: " + note);
        if (svg is not null)
        {
            string doc = SvgMap.Stack([SvgMap.Heading($"{file.Name} {Harness.Suite.ScenarioReport.Tag(combination)}"), .. pictures.SelectMany(p => p.Svgs())]);
            try
            {
                File.WriteAllText(svg, doc, TextRules.Utf8NoBom);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"--svg {svg}: {e.Message}");
            }
            Console.Error.WriteLine($"wrote {svg}: {pictures.Count} checkpoint(s)");
        }
        return ExitCodes.Ok;
    }
}
