using KernelMm.Harness.Compilation;
using KernelMm.Harness.Matrix;
using KernelMm.Harness.Repo;
using KernelMm.Harness.Snapshots;
using KernelMm.Harness.Suite;
using KernelMm.Patches;

namespace KernelMm.Scenarios.Tests;

/// <summary>The clone these tests were built in, and the runner the main job uses, configured the same way (KMM_UPDATE, CI, limits).</summary>
internal static class Clone
{
    public static RepoLayout Repo { get; } = RepoLayout.Find(AppContext.BaseDirectory)
        ?? throw new InvalidOperationException($"no {RepoLayout.SolutionFile} above {AppContext.BaseDirectory}");

    public static SnapshotStore Store { get; } = new(Repo.ScenariosDir, Repo.SnapshotsDir, SnapshotPolicy.FromEnvironment());

    public static SuiteRunner Runner { get; } = new(
        Series.Upstream,
        new ScenarioCompiler(Repo.CacheDir, Display),
        Store,
        RunLimits.FromEnvironment(),
        Display);

    public static string Display(string fullPath) => Repo.Describe(fullPath).DisplayPath;
}
