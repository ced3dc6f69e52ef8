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
    /// <summary>The value of <c>kmm run --series</c> that runs every registered series.</summary>
    public const string AllSeries = "all";

    private readonly Dictionary<Series, SnapshotStore> _stores = [];

    private CliContext(RepoLayout repo, SnapshotPolicy policy, RunLimits limits, Series series)
    {
        Repo = repo;
        Policy = policy;
        Limits = limits;
        Series = series;
    }

    public RepoLayout Repo { get; }
    public SnapshotPolicy Policy { get; }
    public RunLimits Limits { get; }

    /// <summary>The series chosen with <c>--series</c> (the posted one by default).</summary>
    public Series Series { get; }

    /// <summary>The chosen series' snapshots.</summary>
    public SnapshotStore Store => StoreFor(Series);

    /// <summary>Every registered series' snapshot store, the posted one first (accept, diff and report look at them all).</summary>
    public IEnumerable<SnapshotStore> Stores => Series.All.Select(StoreFor);

    /// <summary>Snapshots/ for the posted series, Snapshots-NAME/ for another (RepoLayout.SnapshotsDirFor).</summary>
    public SnapshotStore StoreFor(Series series)
    {
        if (!_stores.TryGetValue(series, out var store))
            _stores[series] = store = new SnapshotStore(Repo.ScenariosDir, Repo.SnapshotsDirFor(series.Name), Policy);
        return store;
    }

    /// <summary>
    /// The series <c>kmm run</c> runs without <c>--series</c>: the posted one, and each other
    /// series whose snapshots this clone keeps (its Snapshots-NAME/ folder exists, as
    /// Snapshots-upstream/ does in this repository).
    /// </summary>
    public IReadOnlyList<Series> KeptSeries() =>
        [.. Series.All.Where(s => s == Series.Posted || Directory.Exists(Repo.SnapshotsDirFor(s.Name)))];

    /// <summary>The series a <c>--series</c> value names; <c>all</c> (where <paramref name="allowAll"/>) is every registered one; null is the posted one.</summary>
    public static IReadOnlyList<Series> ParseSeries(string? spec, bool allowAll)
    {
        if (spec is null)
            return [Series.Posted];
        if (allowAll && spec.Trim() == AllSeries)
            return Series.All;
        try
        {
            return [Series.Named(spec)];
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message + (allowAll ? $", or '{AllSeries}'" : ""));
        }
    }

    /// <summary>The <c>--series</c> option: <paramref name="allowAll"/> for <c>kmm run</c>, whose default is every series.</summary>
    public static System.CommandLine.Option<string?> SeriesOption(bool allowAll) => new("--series")
    {
        Description = allowAll
            ? $"The series to run: {string.Join(", ", Series.All.Select(s => s.Name))} or '{AllSeries}', each against its own snapshots (default: posted, and each other series whose Snapshots-NAME/ folder the clone has)."
            : $"The series whose patches --patches names: {string.Join(" or ", Series.All.Select(s => s.Name))} (default {Series.Posted.Name}).",
    };

    /// <summary>
    /// Finds the clone from the current directory, else from where kmm itself was built (so
    /// <c>dotnet run --project</c> works from anywhere), and reads KMM_UPDATE, KMM_MAX_OPS and
    /// KMM_TIMEOUT, which the command line's options override.
    /// </summary>
    public static CliContext Create(long? maxOps = null, double? timeoutSeconds = null, string? series = null)
    {
        var chosen = ParseSeries(series, allowAll: false)[0];
        var repo = RepoLayout.Find(Environment.CurrentDirectory) ?? RepoLayout.Find(AppContext.BaseDirectory)
            ?? throw new UsageException($"no {RepoLayout.SolutionFile} in {Environment.CurrentDirectory} or above: run kmm inside the clone");
        try
        {
            var limits = RunLimits.FromEnvironment();
            if (maxOps is { } ops)
                limits = ops > 0 ? limits with { MaxOperations = ops } : throw new UsageException("--max-ops must be positive");
            if (timeoutSeconds is { } t)
                limits = t > 0 ? limits with { WallClock = TimeSpan.FromSeconds(t) } : throw new UsageException("--timeout must be positive");
            return new CliContext(repo, SnapshotPolicy.FromEnvironment(), limits, chosen);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
    }

    public string Display(string fullPath) => Repo.Describe(fullPath).DisplayPath;

    public SuiteRunner Runner() => Runner(Series);

    public SuiteRunner Runner(Series series) =>
        new(series, Compiler, StoreFor(series), Limits, Display);

    /// <summary>The one compiler of this command: each series' runner shares it, so a scenario is loaded (and its code JIT-compiled) once.</summary>
    public ScenarioCompiler Compiler => _compiler ??= new ScenarioCompiler(Repo.CacheDir, Display);

    private ScenarioCompiler? _compiler;

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
    public Func<string, bool>? OrphanScope(IReadOnlyList<string> paths, SnapshotStore store)
    {
        var folders = paths.Where(Directory.Exists).ToList();
        if (paths.Count == 0)
            return _ => true;
        return folders.Count == 0 ? null : Repo.Scope(folders, store.SnapshotsDir);
    }
}
