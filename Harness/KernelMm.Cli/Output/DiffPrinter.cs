using KernelMm.Harness.Snapshots;
using Spectre.Console;

namespace KernelMm.Cli.Output;

/// <summary>Prints a unified diff, coloured as git colours one (when colour is on).</summary>
internal static class DiffPrinter
{
    public static void Print(IAnsiConsole console, IReadOnlyList<DiffLine> lines)
    {
        foreach (var l in lines)
        {
            string style = l.Kind switch
            {
                DiffLineKind.FileHeader => "bold",
                DiffLineKind.HunkHeader => "cyan",
                DiffLineKind.Removed => "red",
                DiffLineKind.Added => "green",
                _ => "",
            };
            string text = Markup.Escape(l.Text);
            console.MarkupLine(style.Length == 0 ? text : $"[{style}]{text}[/]");
        }
    }
}
