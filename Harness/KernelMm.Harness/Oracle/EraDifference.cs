namespace KernelMm.Harness.Oracle;

/// <summary>
/// A difference between the model's era (a 5.x kernel) and a newer host kernel that the
/// oracle expects and does not count as a disagreement: the commit that made it, the
/// figures it moves, and when it applies.
/// </summary>
public sealed record EraDifference(string Id, string Commit, string Description, IReadOnlySet<string> Figures, Func<EraContext, bool> Applies);

/// <summary>What a declared difference is judged on: the host, the combination replayed, and the calls behind a process's state.</summary>
public sealed record EraContext(HostKernelFacts Host, IReadOnlySet<string> Patches, IReadOnlyList<ReplayCall> History);
