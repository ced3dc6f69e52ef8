using KernelMm.Harness.Compilation;
using KernelMm.Harness.Matrix;
using KernelMm.Harness.Repo;
using KernelMm.Harness.Snapshots;
using KernelMm.Harness.Suite;
using KernelMm.Patches;

namespace KernelMm.Cli;

/// <summary>What every command needs: the clone, the series, the snapshot policy, the limits.</summary>
internal sealed class CliContext
{
    private CliContext(RepoLayout repo, SnapshotPolicy policy, RunLimits limits)
    {
        Repo = repo;
        Policy = policy;
        Limits = limits;
        Store = new SnapshotStore(repo.ScenariosDir, repo.SnapshotsDir, policy);
    }

    public RepoLayout Repo { get; }
    public SnapshotPolicy Policy { get; }
    public RunLimits Limits { get; }
    public SnapshotStore Store { get; }
    public Series Series => Series.Upstream;

    /// <summary>
    /// Finds the clone from the current directory, else from where kmm itself was built (so
    /// <c>dotnet run --project</c> works from anywhere), and reads KMM_UPDATE, KMM_MAX_OPS and
    /// KMM_TIMEOUT, which the command line's options override.
    /// </summary>
    public static CliContext Create(long? maxOps = null, double? timeoutSeconds = null)
    {
        var repo = RepoLayout.Find(Environment.CurrentDirectory) ?? RepoLayout.Find(AppContext.BaseDirectory)
            ?? throw new UsageException($"no {RepoLayout.SolutionFile} in {Environment.CurrentDirectory} or above: run kmm inside the clone");
        try
        {
            var limits = RunLimits.FromEnvironment();
            if (maxOps is { } ops)
                limits = ops > 0 ? limits with { MaxOperations = ops } : throw new UsageException("--max-ops must be positive");
            if (timeoutSeconds is { } t)
                limits = t > 0 ? limits with { WallClock = TimeSpan.FromSeconds(t) } : throw new UsageException("--timeout must be positive");
            return new CliContext(repo, SnapshotPolicy.FromEnvironment(), limits);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
    }

    public string Display(string fullPath) => Repo.Describe(fullPath).DisplayPath;

    public SuiteRunner Runner() =>
        new(Series, new ScenarioCompiler(Repo.CacheDir, Display), Store, Limits, Display);

    public IReadOnlyList<ScenarioFile> Discover(IReadOnlyList<string> paths)
    {
        try
        {
            return Repo.Discover(paths);
        }
        catch (FileNotFoundException e)
        {
            throw new UsageException(e.Message);
        }
    }

    /// <summary>Orphans are looked for only where a whole folder (or everything) was asked for.</summary>
    public Func<string, bool>? OrphanScope(IReadOnlyList<string> paths)
    {
        var folders = paths.Where(Directory.Exists).ToList();
        if (paths.Count == 0)
            return _ => true;
        return folders.Count == 0 ? null : Repo.Scope(folders);
    }
}
