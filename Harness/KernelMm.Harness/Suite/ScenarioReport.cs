using KernelMm.Harness.Compilation;
using KernelMm.Harness.Matrix;
using KernelMm.Harness.Outcomes;
using KernelMm.Harness.Repo;
using KernelMm.Harness.Snapshots;

namespace KernelMm.Harness.Suite;

/// <summary>Everything a run found out about one scenario.</summary>
public sealed record ScenarioReport(
    ScenarioFile File,
    ScenarioStatus Status,
    int Combinations,
    IReadOnlyList<Outcome> Outcomes,
    IReadOnlyList<ScriptDiagnostic> CompileErrors,
    IReadOnlyList<CombinationResult> Results,
    VerifyResult? Verify,
    string? Snapshot,
    bool CompiledFromCache,
    TimeSpan CompileTime,
    TimeSpan RunTime)
{
    /// <summary>The series the scenario ran under (<c>posted</c>, <c>upstream</c>).</summary>
    public string Series { get; init; } = Patches.PostedSeries.Name;

    /// <summary>The scenario's path, with the series in brackets unless it is the default one: what tables and messages name.</summary>
    public string Label => Series == Patches.PostedSeries.Name || Patches.Series.All.All(s => s.Name != Series) ? File.DisplayPath : $"{File.DisplayPath} [{Series}]";

    /// <summary>Verified, updated, or (outside Scenarios/) ran; says nothing of findings.</summary>
    public bool Passed => Status is ScenarioStatus.Verified or ScenarioStatus.Updated or ScenarioStatus.Ran;

    /// <summary>
    /// Combinations whose state shows invariant violations (DESIGN.md's "findings"). They are
    /// written into the snapshot, under warnings, for review.
    /// </summary>
    public int Findings => Results.Count(r => r.Findings > 0);

    /// <summary>
    /// Findings nobody has reviewed: in a snapshot that is not verified (changed or new), or
    /// in a script outside Scenarios/ that has none. A finding the verified snapshot already
    /// records (the base kernel's own bug that a patch of the series fixes, say) was accepted
    /// in review and does not fail the run again.
    /// </summary>
    public bool UnreviewedFindings => Findings > 0 && Status is not (ScenarioStatus.Verified or ScenarioStatus.Updated);

    /// <summary>Notes on the script (a Record placed where it reads as belonging elsewhere), once each over all combinations.</summary>
    public IEnumerable<string> Notes => Results.SelectMany(r => r.Notes).Distinct(StringComparer.Ordinal);

    /// <summary>The combinations that did not complete.</summary>
    public IEnumerable<CombinationResult> Failures => Results.Where(r => r.Status is not CombinationStatus.Completed);

    /// <summary>What went wrong, one line per problem, for consoles and test messages.</summary>
    public IEnumerable<string> Problems()
    {
        foreach (var d in CompileErrors)
            yield return d.ToString();
        // The same exception in many combinations is one line, with the formula of where it happens.
        foreach (var g in Results.Where(r => r.Status == CombinationStatus.Threw).GroupBy(r => r.Failure!.ToString(), StringComparer.Ordinal))
            yield return $"{g.Key} {Tag(g.First().Combination)}{AlsoIn([.. g])}";
        foreach (var r in Results.Where(r => r.Status == CombinationStatus.Stopped))
            yield return $"{r.Failure} {Tag(r.Combination)}";
        if (UnreviewedFindings)
            yield return $"{Label}: invariant violations in {Findings} combination(s): see the warnings sections";
        int skipped = Results.Count(r => r.Status == CombinationStatus.NotStarted);
        if (skipped > 0)
            yield return $"{Label}: {skipped} more combination(s) not started after a limit was hit";
        if (Verify is { Passed: false } v)
        {
            yield return v.Status == SnapshotStatus.New
                ? $"{Label}: no verified snapshot ({Rel(v.Received) ?? "nothing written: KMM_UPDATE=no"})"
                : $"{Label}: snapshot changed ({Rel(v.Received) ?? "nothing written: KMM_UPDATE=no"})";
            if (v.BrokenVerified is { } broken)
                yield return broken;
        }
    }

    /// <summary><c>[patches: a,b]</c>, naming the series too when it is a registered one other than the default (a test's own series says nothing).</summary>
    public static string Tag(Patches.Combination c) =>
        c.Series == Patches.Series.Posted || !Patches.Series.All.Contains(c.Series) ? $"[patches: {c.Label}]" : $"[series: {c.Series.Name}, patches: {c.Label}]";

    private string AlsoIn(IReadOnlyList<CombinationResult> same)
    {
        if (same.Count == 1)
            return "";
        if (same.Count == Combinations)
            return $" (the same in all {Combinations} combinations)";
        var ids = same[0].Combination.Series.Ids.ToList();
        return $" (the same in {same.Count} combinations: {Formula.For(same.Select(r => r.Combination.Mask), ids)})";
    }

    private static string? Rel(string? path) => path is null ? null : "received: " + Path.GetFileName(path);
}
