namespace KernelMm.Harness.Outcomes;

/// <summary>Combinations that ended in byte-identical state, and the formula that selects exactly them.</summary>
/// <param name="Formula">The smallest formula over patch ids selecting <paramref name="Combinations"/> (<c>all</c> when it is every one).</param>
/// <param name="Combinations">Combination masks, ascending.</param>
/// <param name="State">The rendered checkpoints those combinations share.</param>
public sealed record Outcome(string Formula, IReadOnlyList<int> Combinations, string State);
