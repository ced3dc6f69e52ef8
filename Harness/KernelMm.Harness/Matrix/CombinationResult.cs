using KernelMm.Patches;

namespace KernelMm.Harness.Matrix;

/// <summary>One combination's run: its captured state when it completed, or its failure.</summary>
/// <param name="Combination">Which patches were applied.</param>
/// <param name="Status">How the run ended.</param>
/// <param name="State">The rendered checkpoints, when it completed.</param>
/// <param name="Failure">Why it did not complete.</param>
/// <param name="Elapsed">Wall time of the run.</param>
/// <param name="Operations">Calls made through the globals.</param>
/// <param name="Findings">Invariant violations in its checkpoints (they are in the state too, under warnings).</param>
public sealed record CombinationResult(
    Combination Combination,
    CombinationStatus Status,
    string? State,
    RunFailure? Failure,
    TimeSpan Elapsed,
    long Operations,
    int Findings = 0)
{
    /// <summary>Where the script placed something a reader would misread (<c>path:line: message</c>), for a warning; not part of the state.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
}
