using KernelMm.Patches;

namespace KernelMm.Harness.Matrix;

/// <summary>One combination's run: its captured state when it completed, or its failure.</summary>
public sealed record CombinationResult(
    Combination Combination,
    CombinationStatus Status,
    string? State,
    RunFailure? Failure,
    TimeSpan Elapsed,
    long Operations);
