using Spectre.Console;

namespace KernelMm.Cli.Output;

/// <summary>
/// The console the commands write to: no colour when NO_COLOR is set (any value, as
/// no-color.org says) or stdout is not a terminal, and no live progress display when it is
/// not a terminal, so logs and pipes get plain text.
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
        if (Redirected)
            console.Profile.Width = 200;
        return console;
    }
}
