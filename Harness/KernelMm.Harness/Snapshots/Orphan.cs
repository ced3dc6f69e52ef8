namespace KernelMm.Harness.Snapshots;

/// <summary>A verified or received file in Snapshots/ whose scenario no longer exists in Scenarios/.</summary>
/// <param name="Path">The file.</param>
/// <param name="Id">The scenario id it belongs to (its path under Snapshots/ without the suffix).</param>
public sealed record Orphan(string Id, string Path);
