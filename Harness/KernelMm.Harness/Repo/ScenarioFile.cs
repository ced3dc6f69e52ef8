namespace KernelMm.Harness.Repo;

/// <summary>A scenario script and what it is called.</summary>
/// <param name="FullPath">Absolute path of the .csx file.</param>
/// <param name="DisplayPath">How messages name it: relative to the repository when inside it, else absolute; '/' separators.</param>
/// <param name="Name">
/// Its stable name: the path under Scenarios/ without <c>.csx</c> (<c>modules/module-churn</c>),
/// or the file name without extension for a script elsewhere. The random seed is derived
/// from it, so it must not depend on where the clone lives.
/// </param>
/// <param name="SnapshotId">The id of its snapshot (the same as <paramref name="Name"/>) when it is under Scenarios/; null for a reproducer elsewhere, which is run but never verified.</param>
public sealed record ScenarioFile(string FullPath, string DisplayPath, string Name, string? SnapshotId)
{
    public bool HasSnapshot => SnapshotId is not null;
}
