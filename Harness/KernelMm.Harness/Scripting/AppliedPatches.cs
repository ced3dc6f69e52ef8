using KernelMm.Patches;

namespace KernelMm.Harness.Scripting;

/// <summary>The <c>Patches</c> global: which patches this combination applies. Scenarios may read it, not branch the workload on it.</summary>
public sealed class AppliedPatches
{
    private readonly Combination _combination;

    internal AppliedPatches(Combination combination) => _combination = combination;

    /// <summary>Whether patch <paramref name="id"/> is applied; an id not in the series throws rather than reading as off.</summary>
    public bool IsApplied(string id) => _combination.IsApplied(id);

    /// <summary>The applied ids, in series order.</summary>
    public IReadOnlyList<string> Enabled => [.. _combination.Enabled.Select(p => p.Id)];

    /// <summary>Every id of the series, in series order.</summary>
    public IReadOnlyList<string> Series => [.. _combination.Series.Ids];

    /// <summary><c>none</c> or the applied ids, comma-separated.</summary>
    public override string ToString() => _combination.Label;
}
