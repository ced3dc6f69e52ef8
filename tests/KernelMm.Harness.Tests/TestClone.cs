using KernelMm.Harness.Compilation;
using KernelMm.Harness.Matrix;
using KernelMm.Harness.Repo;
using KernelMm.Harness.Snapshots;
using KernelMm.Harness.Suite;
using KernelMm.Patches;

namespace KernelMm.Harness.Tests;

/// <summary>
/// A throwaway clone in a temp folder (KernelMmHarness.sln, Scenarios/, Snapshots/, a compile
/// cache) to compile and run scripts in, inside this test host.
/// </summary>
public sealed class TestClone : IDisposable
{
    private readonly TempDir _dir = new();

    public TestClone()
    {
        _dir.Write(RepoLayout.SolutionFile, "");
        Repo = new RepoLayout(_dir.Path);
    }

    public RepoLayout Repo { get; }

    public string Root => _dir.Path;

    public ScenarioFile Scenario(string relative, string text) => Repo.Describe(_dir.Write(relative, text));

    public string Write(string relative, string text) => _dir.Write(relative, text);

    public ScenarioCompiler Compiler() => new(Repo.CacheDir, p => Repo.Describe(p).DisplayPath);

    public SnapshotStore Store(UpdateMode mode = UpdateMode.New, bool ci = false) =>
        new(Repo.ScenariosDir, Repo.SnapshotsDir, new SnapshotPolicy(mode, ci));

    public SuiteRunner Runner(Series? series = null, RunLimits? limits = null, SnapshotStore? store = null, int? maxParallel = null) =>
        new(series ?? new Series([]), Compiler(), store ?? Store(), limits ?? RunLimits.Default, p => Repo.Describe(p).DisplayPath, maxParallel);

    public void Dispose() => _dir.Dispose();
}
