using System.Diagnostics;
using System.Text;
using KernelMm.Harness.Snapshots;

namespace KernelMm.Harness.Review;

/// <summary>Two versions of one scenario's snapshot: null where that side has none.</summary>
/// <param name="Id">The scenario id (<c>kmem/free-ptes-uncharge</c>).</param>
/// <param name="Old">The earlier text (verified, or at the git revision).</param>
/// <param name="New">The later text (received, or in the working tree).</param>
/// <param name="OldName">How the diff names the earlier file.</param>
/// <param name="NewName">How the diff names the later file.</param>
/// <param name="Path">The verified snapshot's path from the repository root (<c>Snapshots-upstream/kmem/x.verified.txt</c>), as a command names it.</param>
public sealed record SnapshotPair(string Id, string? Old, string? New, string OldName, string NewName, string Path);

/// <summary>What a report compares, and the pairs it found.</summary>
/// <param name="Description">Said at the top of the report.</param>
/// <param name="Compared">Snapshots looked at (the changed ones and the rest).</param>
/// <param name="Pairs">Those that differ, by id.</param>
/// <param name="Against">The git revision compared with, as given (null: received against verified).</param>
public sealed record SnapshotComparison(string Description, int Compared, IReadOnlyList<SnapshotPair> Pairs, string? Against = null);

/// <summary>
/// Where a report's snapshot pairs come from: the received files waiting for review against
/// their verified files (what the last run found different), or the working tree's verified
/// files against those of a git revision (what a branch changes).
/// </summary>
public static class SnapshotSources
{
    /// <summary>Every pending received file, against its verified file (none when the scenario is new).</summary>
    public static SnapshotComparison Pending(SnapshotStore store, Func<string, bool>? inScope = null)
    {
        var pairs = store.Pending(inScope).Select(id => new SnapshotPair(id, store.ReadVerified(id), store.ReadReceived(id),
            store.RepoRelative(store.VerifiedPath(id)), store.RepoRelative(store.ReceivedPath(id)), store.RepoRelative(store.VerifiedPath(id)))).ToList();
        return new SnapshotComparison("received snapshots against the verified ones", pairs.Count, pairs);
    }

    /// <summary>
    /// The verified files of the working tree against those of git revision <paramref name="rev"/>.
    /// Throws <see cref="ArgumentException"/> when <paramref name="root"/> is not in a git work tree or
    /// the revision does not exist.
    /// </summary>
    public static SnapshotComparison AgainstRevision(string root, string snapshotsDir, string rev, Func<string, bool>? inScope = null)
    {
        string commit = Git(root, "rev-parse", "--verify", "--quiet", rev + "^{commit}").Trim();
        if (commit.Length == 0)
            throw new ArgumentException($"--against '{rev}': not a git revision here");
        string rel = Path.GetRelativePath(root, snapshotsDir).Replace(Path.DirectorySeparatorChar, '/');
        const string suffix = SnapshotStore.VerifiedSuffix;

        var old = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in Git(root, "ls-tree", "-r", "--name-only", "-z", commit, "--", rel).Split('\0', StringSplitOptions.RemoveEmptyEntries))
            if (path.EndsWith(suffix, StringComparison.Ordinal))
                old[path[(rel.Length + 1)..^suffix.Length]] = path;
        var current = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (Directory.Exists(snapshotsDir))
            foreach (var f in Directory.EnumerateFiles(snapshotsDir, "*" + suffix, SearchOption.AllDirectories))
                current[Path.GetRelativePath(snapshotsDir, f).Replace(Path.DirectorySeparatorChar, '/')[..^suffix.Length]] = f;

        var ids = old.Keys.Union(current.Keys).Where(id => inScope?.Invoke(id) ?? true).Order(StringComparer.Ordinal).ToList();
        var pairs = new List<SnapshotPair>();
        foreach (var id in ids)
        {
            string? before = old.TryGetValue(id, out var p) ? Git(root, "show", $"{commit}:./{p}").Replace("\r\n", "\n") : null;
            string? after = current.TryGetValue(id, out var f) ? TextRules.Utf8NoBom.GetString(File.ReadAllBytes(f)).TrimStart('\uFEFF') : null;
            if (before != after)
                pairs.Add(new SnapshotPair(id, before, after, $"a/{rel}/{id}{suffix}", $"b/{rel}/{id}{suffix}", $"{rel}/{id}{suffix}"));
        }
        string shortRev = rev == commit ? commit[..Math.Min(12, commit.Length)] : $"{rev} ({commit[..Math.Min(12, commit.Length)]})";
        return new SnapshotComparison($"the working tree's verified snapshots against {shortRev}", ids.Count, pairs, rev);
    }

    /// <summary>
    /// One comparison of several series' stores (<paramref name="series"/>[i] names
    /// <paramref name="parts"/>[i]; the first is the default series): the pairs of every other
    /// series get their id suffixed with the series in brackets, so the report tells
    /// <c>kmem/x</c> from <c>kmem/x [upstream]</c>.
    /// </summary>
    public static SnapshotComparison Combine(IReadOnlyList<SnapshotComparison> parts, IReadOnlyList<string> series)
    {
        if (parts.Count == 1)
            return parts[0];
        var pairs = parts.SelectMany((c, i) => i == 0 ? c.Pairs : c.Pairs.Select(p => p with { Id = $"{p.Id} [{series[i]}]" })).ToList();
        return new SnapshotComparison(parts[0].Description, parts.Sum(c => c.Compared), pairs, parts[0].Against);
    }

    private static string Git(string cwd, params string[] args)
    {
        var psi = new ProcessStartInfo("git")
        {
            WorkingDirectory = cwd,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = new UTF8Encoding(false),
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        Process p;
        try
        {
            p = Process.Start(psi) ?? throw new ArgumentException("could not start git");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new ArgumentException($"--against needs git: {e.Message}");
        }
        using (p)
        {
            var stderr = p.StandardError.ReadToEndAsync();
            string stdout = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0 && !(args.Length > 0 && args[0] == "rev-parse"))
                throw new ArgumentException($"git {string.Join(' ', args)}: {stderr.Result.Trim()}");
            return stdout;
        }
    }
}
