using System.Diagnostics;
using System.Text;

namespace KernelMm.Harness.Matrix;

/// <summary>
/// Finds the script line in an exception's stack. Scenarios are emitted with an embedded
/// portable PDB, so their frames carry the .csx path and line like any other code.
/// </summary>
internal static class ExceptionLocator
{
    public static RunFailure Describe(Exception e, Func<string, string> displayPath, string? messageOverride = null)
    {
        string? location = null, source = null;
        var stack = new StringBuilder();
        foreach (var frame in new StackTrace(e, fNeedFileInfo: true).GetFrames())
        {
            string? file = frame.GetFileName();
            if (file is null || !file.EndsWith(".csx", StringComparison.OrdinalIgnoreCase))
                continue;
            string where = $"{displayPath(file)}:{frame.GetFileLineNumber()}";
            if (location is null)
            {
                location = where;
                source = LineOf(file, frame.GetFileLineNumber());
            }
            stack.Append("  at ").Append(where).Append('\n');
        }
        return new RunFailure(location, messageOverride ?? $"{e.GetType().Name}: {e.Message}", stack.ToString(), source);
    }

    private static string? LineOf(string file, int line)
    {
        try
        {
            return line > 0 ? File.ReadLines(file).Skip(line - 1).FirstOrDefault()?.Trim() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
