namespace KernelMm.Harness.Repo;

/// <summary>
/// Where things are in a clone: the root (the folder holding KernelMmHarness.sln),
/// Scenarios/, Snapshots/ (the posted series' snapshots), Snapshots-NAME/ (another series',
/// e.g. Snapshots-upstream/) and the compile cache. Scenario paths given on the command line
/// are resolved against the current directory and described relative to the root.
/// </summary>
public sealed class RepoLayout
{
    public const string SolutionFile = "KernelMmHarness.sln";

    public RepoLayout(string root)
    {
        Root = Path.GetFullPath(root);
        ScenariosDir = Path.Combine(Root, "Scenarios");
        SnapshotsDir = Path.Combine(Root, "Snapshots");
        CacheDir = Path.Combine(Root, ".kmm-cache");
    }

    public string Root { get; }
    public string ScenariosDir { get; }

    /// <summary>The default (posted) series' snapshots.</summary>
    public string SnapshotsDir { get; }

    /// <summary>
    /// Where the snapshots of the series called <paramref name="series"/> live: Snapshots/ for
    /// the posted series, Snapshots-NAME/ beside it for any other, each mirroring Scenarios/.
    /// </summary>
    public string SnapshotsDirFor(string series) =>
        series == Patches.PostedSeries.Name ? SnapshotsDir : Path.Combine(Root, "Snapshots-" + series);

    /// <summary>Compiled scenarios (git-ignored).</summary>
    public string CacheDir { get; }

    /// <summary>Walks up from <paramref name="start"/> to the folder holding KernelMmHarness.sln; null if there is none.</summary>
    public static RepoLayout? Find(string start)
    {
        for (var d = new DirectoryInfo(Path.GetFullPath(start)); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, SolutionFile)))
                return new RepoLayout(d.FullName);
        return null;
    }

    /// <summary>Describes one script, wherever it is.</summary>
    public ScenarioFile Describe(string path)
    {
        string full = Path.GetFullPath(path);
        string display = IsUnder(full, Root) ? Slashes(Path.GetRelativePath(Root, full)) : Slashes(full);
        if (IsUnder(full, ScenariosDir) && full.EndsWith(".csx", StringComparison.Ordinal))
        {
            string id = Slashes(Path.GetRelativePath(ScenariosDir, full))[..^4];
            return new ScenarioFile(full, display, id, id);
        }
        return new ScenarioFile(full, display, Path.GetFileNameWithoutExtension(full), null);
    }

    /// <summary>
    /// The scenarios named by <paramref name="paths"/> (files, or folders searched for *.csx);
    /// every scenario under Scenarios/ when there are none. Sorted by path (ordinal), so runs
    /// and reports come in the same order everywhere. Throws <see cref="FileNotFoundException"/>
    /// for a path that does not exist.
    /// </summary>
    public IReadOnlyList<ScenarioFile> Discover(IReadOnlyList<string> paths)
    {
        var files = new SortedSet<string>(StringComparer.Ordinal);
        if (paths.Count == 0)
            paths = [ScenariosDir];
        foreach (var p in paths)
        {
            string full = Path.GetFullPath(p);
            if (Directory.Exists(full))
            {
                foreach (var f in Directory.EnumerateFiles(full, "*.csx", SearchOption.AllDirectories))
                    files.Add(f);
            }
            else if (File.Exists(full))
            {
                files.Add(full);
            }
            else if (full != ScenariosDir)
            {
                throw new FileNotFoundException($"no such scenario or folder: {p}", p);
            }
        }
        return files.Select(Describe).ToList();
    }

    /// <summary>
    /// Which snapshot ids a list of paths covers (for accept, diff and orphan checks): a
    /// folder under Scenarios/ or Snapshots/ covers everything below it, a file its own id,
    /// whether or not the scenario still exists; no paths cover everything.
    /// </summary>
    public Func<string, bool> Scope(IReadOnlyList<string> paths) => Scope(paths, SnapshotsDir);

    /// <summary>
    /// <see cref="Scope(IReadOnlyList{string})"/> for the store in <paramref name="snapshotsDir"/>:
    /// a path under Scenarios/ covers that id in every series' store, a path under one
    /// series' snapshot folder only in that store.
    /// </summary>
    public Func<string, bool> Scope(IReadOnlyList<string> paths, string snapshotsDir)
    {
        if (paths.Count == 0)
            return _ => true;
        snapshotsDir = Path.GetFullPath(snapshotsDir);
        var exact = new HashSet<string>(StringComparer.Ordinal);
        var prefixes = new List<string>();
        foreach (var p in paths)
        {
            string full = Path.GetFullPath(p).TrimEnd(Path.DirectorySeparatorChar);
            string? baseDir = IsUnder(full, ScenariosDir) ? ScenariosDir : IsUnder(full, snapshotsDir) ? snapshotsDir : null;
            if (baseDir is null)
                continue;
            string rel = full == baseDir ? "" : Slashes(Path.GetRelativePath(baseDir, full));
            string? id = StripSuffix(rel);
            if (id is not null && !Directory.Exists(full))
                exact.Add(id);
            else
                prefixes.Add(rel.Length == 0 ? "" : rel + "/");
        }
        return id => exact.Contains(id) || prefixes.Any(p => id.StartsWith(p, StringComparison.Ordinal));
    }

    private static string? StripSuffix(string rel)
    {
        foreach (var suffix in new[] { ".csx", ".verified.txt", ".received.txt" })
            if (rel.EndsWith(suffix, StringComparison.Ordinal))
                return rel[..^suffix.Length];
        return null;
    }

    private static bool IsUnder(string path, string dir) =>
        path == dir || path.StartsWith(dir + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private static string Slashes(string p) => p.Replace(Path.DirectorySeparatorChar, '/');
}
