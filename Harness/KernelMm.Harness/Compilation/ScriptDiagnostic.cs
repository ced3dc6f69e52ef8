namespace KernelMm.Harness.Compilation;

/// <summary>A compile error, pointing at the .csx file, line and column (1-based), as compilers print them.</summary>
public sealed record ScriptDiagnostic(string Path, int Line, int Column, string Id, string Message)
{
    /// <summary><c>path:line:col: error CSxxxx: message</c> (<c>path: error ...</c> when the error has no position).</summary>
    public override string ToString() => Line > 0
        ? $"{Path}:{Line}:{Column}: error {Id}: {Message}"
        : $"{Path}: error {Id}: {Message}";
}
