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
        string? location = null;
        var stack = new StringBuilder();
        foreach (var frame in new StackTrace(e, fNeedFileInfo: true).GetFrames())
        {
            string? file = frame.GetFileName();
            if (file is null || !file.EndsWith(".csx", StringComparison.OrdinalIgnoreCase))
                continue;
            string where = $"{displayPath(file)}:{frame.GetFileLineNumber()}";
            location ??= where;
            stack.Append("  at ").Append(where).Append('\n');
        }
        return new RunFailure(location, messageOverride ?? $"{e.GetType().Name}: {e.Message}", stack.ToString());
    }
}
