using System.Diagnostics;
using KernelMm.Harness.Compilation;
using KernelMm.Harness.Matrix;
using KernelMm.Harness.Outcomes;
using KernelMm.Harness.Repo;
using KernelMm.Harness.Snapshots;
using KernelMm.Patches;

namespace KernelMm.Harness.Suite;

/// <summary>
/// The main job for one scenario: compile it (once), run it under every combination,
/// group the states into outcomes, render the snapshot and verify it. A scenario outside
/// Scenarios/ (or a run without a store) is summarised only. A compile error, an exception
/// or a limit writes no snapshot.
/// </summary>
public sealed class SuiteRunner(Series series, ScenarioCompiler compiler, SnapshotStore? store, RunLimits limits,
    Func<string, string>? displayPath = null, int? maxParallel = null)
{
    private readonly MatrixRunner _matrix = new(limits, displayPath ?? (p => p), maxParallel);

    public Series Series { get; } = series;

    /// <param name="file">The scenario.</param>
    /// <param name="done">Called (from worker threads) as each combination finishes.</param>
    public ScenarioReport Run(ScenarioFile file, Action<CombinationResult>? done = null)
    {
        var compiled = compiler.Compile(file);
        if (!compiled.Succeeded)
            return new ScenarioReport(file, ScenarioStatus.CompileError, Series.CombinationCount, [], compiled.Errors, [], null, null,
                false, compiled.Elapsed, TimeSpan.Zero) { Series = Series.Name };

        var sw = Stopwatch.StartNew();
        var results = _matrix.Run(compiled.Scenario!, Series, done);
        sw.Stop();
        ScenarioReport Report(ScenarioStatus status, IReadOnlyList<Outcome> outcomes, VerifyResult? verify, string? snapshot) =>
            new(file, status, Series.CombinationCount, outcomes, [], results, verify, snapshot, compiled.FromCache, compiled.Elapsed, sw.Elapsed) { Series = Series.Name };

        if (results.Any(r => r.Status is CombinationStatus.Stopped or CombinationStatus.NotStarted))
            return Report(ScenarioStatus.Stopped, [], null, null);
        if (results.Any(r => r.Status == CombinationStatus.Threw))
            return Report(ScenarioStatus.Threw, [], null, null);

        var outcomes = OutcomeGrouper.Group([.. results.Select(r => r.State!)], [.. Series.Ids]);
        string snapshot = SnapshotRenderer.Render(file.Name, Series, outcomes);
        if (store is null || file.SnapshotId is null)
            return Report(ScenarioStatus.Ran, outcomes, null, snapshot);

        var verify = store.Verify(file.SnapshotId, snapshot);
        var status = verify.Status switch
        {
            SnapshotStatus.Verified => ScenarioStatus.Verified,
            SnapshotStatus.Updated => ScenarioStatus.Updated,
            SnapshotStatus.New => ScenarioStatus.New,
            _ => ScenarioStatus.Changed,
        };
        return Report(status, outcomes, verify, snapshot);
    }

    /// <summary>One combination (for <c>kmm show</c>): the compile result and, when it compiled, the run; <paramref name="atCheckpoint"/> sees the kernel at each checkpoint.</summary>
    public (CompileResult Compile, CombinationResult? Result) Show(ScenarioFile file, Combination combination, Action<string, Model.Kernel>? atCheckpoint = null)
    {
        var compiled = compiler.Compile(file);
        return compiled.Succeeded ? (compiled, _matrix.RunGuarded(compiled.Scenario!, combination, atCheckpoint)) : (compiled, null);
    }
}
