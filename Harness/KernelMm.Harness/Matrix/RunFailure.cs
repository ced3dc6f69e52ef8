namespace KernelMm.Harness.Matrix;

/// <summary>Why a combination did not complete.</summary>
/// <param name="Location">The script line that was running (<c>Scenarios/x.csx:12</c>), when the stack shows one.</param>
/// <param name="Message">The exception type and message, or the limit that tripped.</param>
/// <param name="ScriptStack">The script frames of the stack, innermost first, one per line.</param>
/// <param name="SourceLine">The text of the line at <paramref name="Location"/>, trimmed, when the file could be read.</param>
public sealed record RunFailure(string? Location, string Message, string ScriptStack, string? SourceLine = null)
{
    public override string ToString() => Location is null ? Message : $"{Location}: {Message}";
}
