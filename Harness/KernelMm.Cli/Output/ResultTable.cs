using System.Globalization;
using KernelMm.Harness.Suite;
using Spectre.Console;

namespace KernelMm.Cli.Output;

/// <summary>The table <c>kmm run</c> ends with: one row per scenario, then the totals.</summary>
internal static class ResultTable
{
    /// <summary>The widest row the table's other columns and borders take besides the scenario's label.</summary>
    private const int OtherColumns = 58;

    public static void Print(IAnsiConsole console, IReadOnlyList<ScenarioReport> reports)
    {
        // A table narrower than its labels would break paths mid-word: on a narrow terminal each
        // scenario gets its own line and its numbers the next one.
        if (reports.Max(r => r.Label.Length) + OtherColumns > console.Profile.Width)
        {
            PrintNarrow(console, reports);
            return;
        }
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("scenario")
            .AddColumn(new TableColumn("combinations").RightAligned())
            .AddColumn(new TableColumn("outcomes").RightAligned())
            .AddColumn("result")
            .AddColumn(new TableColumn("findings").RightAligned())
            .AddColumn(new TableColumn("time").RightAligned());
        foreach (var r in reports)
        {
            table.AddRow(
                Markup.Escape(r.Label),
                r.Combinations.ToString(CultureInfo.InvariantCulture),
                r.Outcomes.Count > 0 ? r.Outcomes.Count.ToString(CultureInfo.InvariantCulture) : "-",
                Result(r),
                r.Findings == 0 ? "0" : r.UnreviewedFindings ? $"[red]{r.Findings}[/]" : $"[yellow]{r.Findings}[/]",
                Seconds(r.CompileTime + r.RunTime) + (r.CompiledFromCache ? "" : "*"));
        }
        console.Write(table);
        console.WriteLine(Totals(reports));
        if (reports.Any(r => !r.CompiledFromCache && r.Status != ScenarioStatus.CompileError))
            console.WriteLine("* compiled (not from the cache)");
    }

    private static void PrintNarrow(IAnsiConsole console, IReadOnlyList<ScenarioReport> reports)
    {
        foreach (var r in reports)
        {
            console.Profile.Out.Writer.WriteLine(r.Label); // never wrapped: a path stays whole
            string findings = r.Findings == 0 ? "0" : r.UnreviewedFindings ? $"[red]{r.Findings}[/]" : $"[yellow]{r.Findings}[/]";
            console.MarkupLine($"    {Result(r)}, {r.Combinations} combinations, {(r.Outcomes.Count > 0 ? r.Outcomes.Count : 0)} outcomes, "
                + $"{findings} findings, {Seconds(r.CompileTime + r.RunTime)}{(r.CompiledFromCache ? "" : "*")}");
        }
        console.WriteLine(Totals(reports));
        if (reports.Any(r => !r.CompiledFromCache && r.Status != ScenarioStatus.CompileError))
            console.WriteLine("* compiled (not from the cache)");
    }

    public static string Totals(IReadOnlyList<ScenarioReport> reports)
    {
        int Count(params ScenarioStatus[] s) => reports.Count(r => s.Contains(r.Status));
        var parts = new List<string>
        {
            $"{Count(ScenarioStatus.Verified)} verified",
            $"{Count(ScenarioStatus.Changed)} changed",
            $"{Count(ScenarioStatus.New)} new",
            $"{Count(ScenarioStatus.CompileError, ScenarioStatus.Threw, ScenarioStatus.Stopped)} failed",
        };
        int findings = reports.Count(r => r.Findings > 0);
        if (findings > 0)
            parts.Add($"{findings} with findings");
        if (Count(ScenarioStatus.Updated) > 0)
            parts.Add($"{Count(ScenarioStatus.Updated)} updated");
        if (Count(ScenarioStatus.Ran) > 0)
            parts.Add($"{Count(ScenarioStatus.Ran)} not verified (outside Scenarios/)");
        return string.Join(", ", parts);
    }

    private static string Result(ScenarioReport r) => r.Status switch
    {
        ScenarioStatus.Verified => "[green]verified[/]",
        ScenarioStatus.Updated => "[green]updated[/]",
        ScenarioStatus.Ran => "ran (not verified)",
        ScenarioStatus.Changed => "[yellow]changed[/]",
        ScenarioStatus.New => "[yellow]new[/]",
        ScenarioStatus.CompileError => "[red]failed: compile error[/]",
        ScenarioStatus.Threw => "[red]failed: exception[/]",
        _ => "[red]failed: limit[/]",
    };

    public static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + " s";
}
