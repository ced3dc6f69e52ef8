using Spectre.Console;

namespace KernelMm.Cli.Output;

/// <summary>
/// The console the commands write to: no colour when NO_COLOR is set (any value, as
/// no-color.org says) or stdout is not a terminal, and no live progress display when it is
/// not a terminal, so logs and pipes get plain text (as wide as <c>COLUMNS</c>, else 200).
/// </summary>
internal static class ConsoleFactory
{
    public static bool Redirected => Console.IsOutputRedirected;

    public static bool NoColor => Environment.GetEnvironmentVariable("NO_COLOR") is { Length: > 0 } || Redirected;

    public static IAnsiConsole Create(TextWriter output)
    {
        bool plain = NoColor;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = plain ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = plain ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = Redirected ? InteractionSupport.No : InteractionSupport.Detect,
            Out = new AnsiConsoleOutput(output),
        });
        // Not a terminal: as wide as COLUMNS says (the shell's convention), else 200.
        if (Redirected)
            console.Profile.Width = int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out int columns) && columns > 0 ? columns : 200;
        return console;
    }
}
