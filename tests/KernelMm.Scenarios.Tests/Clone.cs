using KernelMm.Harness.Compilation;
using KernelMm.Harness.Matrix;
using KernelMm.Harness.Repo;
using KernelMm.Harness.Snapshots;
using KernelMm.Harness.Suite;
using KernelMm.Patches;

namespace KernelMm.Scenarios.Tests;

/// <summary>The clone these tests were built in, and the runners the main job uses (one per series), configured the same way (KMM_UPDATE, CI, limits).</summary>
internal static class Clone
{
    public static RepoLayout Repo { get; } = RepoLayout.Find(AppContext.BaseDirectory)
        ?? throw new InvalidOperationException($"no {RepoLayout.SolutionFile} above {AppContext.BaseDirectory}");

    /// <summary>The posted series' snapshots (Snapshots/).</summary>
    public static SnapshotStore Store { get; } = StoreFor(Series.Posted);

    /// <summary>Each registered series' snapshots (Snapshots/, Snapshots-upstream/).</summary>
    public static IReadOnlyList<SnapshotStore> Stores { get; } = [.. Series.All.Select(StoreFor)];

    private static readonly Dictionary<string, SuiteRunner> Runners = Series.All.ToDictionary(s => s.Name, s => new SuiteRunner(
        s,
        new ScenarioCompiler(Repo.CacheDir, Display),
        Stores[Series.All.ToList().IndexOf(s)],
        RunLimits.FromEnvironment(),
        Display));

    public static SuiteRunner Runner => Runners[Series.Posted.Name];

    public static SuiteRunner RunnerFor(string series) => Runners[series];

    public static string Display(string fullPath) => Repo.Describe(fullPath).DisplayPath;

    private static SnapshotStore StoreFor(Series s) => new(Repo.ScenariosDir, Repo.SnapshotsDirFor(s.Name), SnapshotPolicy.FromEnvironment());
}
