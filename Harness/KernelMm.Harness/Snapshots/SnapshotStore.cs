using System.Text;

namespace KernelMm.Harness.Snapshots;

/// <summary>
/// Verify's file conventions, implemented here because Verify's packages cannot be restored:
/// Snapshots/ mirrors Scenarios/ (Scenarios/a/b.csx is verified by Snapshots/a/b.verified.txt);
/// a mismatch writes b.received.txt beside it and fails; a pass deletes a stale received
/// file; accepting moves received over verified. What may be written depends on the
/// <see cref="SnapshotPolicy"/>.
/// </summary>
public sealed class SnapshotStore(string scenariosDir, string snapshotsDir, SnapshotPolicy policy)
{
    public const string VerifiedSuffix = ".verified.txt";
    public const string ReceivedSuffix = ".received.txt";

    public SnapshotPolicy Policy { get; } = policy;
    public string ScenariosDir { get; } = Path.GetFullPath(scenariosDir);
    public string SnapshotsDir { get; } = Path.GetFullPath(snapshotsDir);

    public string VerifiedPath(string id) => Path.Combine(SnapshotsDir, ToNative(id) + VerifiedSuffix);

    public string ReceivedPath(string id) => Path.Combine(SnapshotsDir, ToNative(id) + ReceivedSuffix);

    public string ScenarioPath(string id) => Path.Combine(ScenariosDir, ToNative(id) + ".csx");

    /// <summary>Compares <paramref name="text"/> (normalised to the text rules) with the verified file and applies the update mode.</summary>
    public VerifyResult Verify(string id, string text)
    {
        string received = TextRules.Normalize(text);
        byte[] receivedBytes = TextRules.Utf8NoBom.GetBytes(received);
        string verifiedPath = VerifiedPath(id), receivedPath = ReceivedPath(id);
        byte[]? verifiedBytes = File.Exists(verifiedPath) ? File.ReadAllBytes(verifiedPath) : null;

        if (verifiedBytes is not null && verifiedBytes.AsSpan().SequenceEqual(receivedBytes))
        {
            DeleteIfExists(receivedPath);
            return new VerifyResult(SnapshotStatus.Verified, verifiedPath, null, null);
        }

        // The diff compares content: a BOM or CRLF in the verified file is named by BrokenVerified
        // instead of showing as every line changed (or as no visible change at all).
        string? diff = verifiedBytes is null
            ? null
            : UnifiedDiff.Render(TextRules.Normalize(ReadText(verifiedBytes)), received, RepoRelative(verifiedPath), RepoRelative(receivedPath),
                where: SnapshotLocation.Describe);
        string? broken = verifiedBytes is null ? null : DescribeBroken(verifiedPath, verifiedBytes, received);

        switch (Policy.Mode)
        {
            case UpdateMode.Always:
                Write(verifiedPath, receivedBytes);
                DeleteIfExists(receivedPath);
                return new VerifyResult(SnapshotStatus.Updated, verifiedPath, null, diff) { BrokenVerified = broken };
            case UpdateMode.New:
                Write(receivedPath, receivedBytes);
                return new VerifyResult(verifiedBytes is null ? SnapshotStatus.New : SnapshotStatus.Changed, verifiedPath, receivedPath, diff) { BrokenVerified = broken };
            default:
                return new VerifyResult(verifiedBytes is null ? SnapshotStatus.New : SnapshotStatus.Changed, verifiedPath, null, diff) { BrokenVerified = broken };
        }
    }

    /// <summary>
    /// What breaks the text rules in the verified file of <paramref name="id"/>, as one message
    /// naming the file, saying whether its content is otherwise <paramref name="expected"/>
    /// (normalised); null when it obeys the rules or does not exist.
    /// </summary>
    public string? DescribeBrokenVerified(string id, string? expected = null)
    {
        string path = VerifiedPath(id);
        return File.Exists(path) ? DescribeBroken(path, File.ReadAllBytes(path), expected is null ? null : TextRules.Normalize(expected)) : null;
    }

    private string? DescribeBroken(string path, byte[] bytes, string? expected)
    {
        var problems = TextRules.Check(bytes);
        if (problems.Count == 0)
            return null;
        string same = expected is not null && TextRules.Normalize(ReadText(bytes)) == expected
            ? "; apart from that its content is what the run produced"
            : "";
        return $"{RepoRelative(path)}: not a valid snapshot file: {string.Join("; ", problems)}{same} (snapshots are UTF-8 without BOM, LF line ends, one final newline)";
    }

    /// <summary>Ids (under <paramref name="inScope"/>) that have a received file waiting for review.</summary>
    public IReadOnlyList<string> Pending(Func<string, bool>? inScope = null) =>
        Files(ReceivedSuffix).Where(f => inScope?.Invoke(f.Id) ?? true).Select(f => f.Id).ToList();

    /// <summary>Ids (under <paramref name="inScope"/>) that have a verified file.</summary>
    public IReadOnlyList<string> VerifiedIds(Func<string, bool>? inScope = null) =>
        Files(VerifiedSuffix).Where(f => inScope?.Invoke(f.Id) ?? true).Select(f => f.Id).ToList();

    /// <summary>Verified and received files whose scenario is gone.</summary>
    public IReadOnlyList<Orphan> FindOrphans(Func<string, bool>? inScope = null) =>
        Files(VerifiedSuffix).Concat(Files(ReceivedSuffix))
            .Where(f => (inScope?.Invoke(f.Id) ?? true) && !File.Exists(ScenarioPath(f.Id)))
            .Select(f => new Orphan(f.Id, f.Path))
            .OrderBy(o => o.Path, StringComparer.Ordinal)
            .ToList();

    /// <summary>
    /// <c>kmm accept</c>: moves each pending received file over its verified file and
    /// deletes orphans, all within <paramref name="inScope"/>. Returns what it did.
    /// </summary>
    public (IReadOnlyList<string> Accepted, IReadOnlyList<Orphan> Removed) Accept(Func<string, bool>? inScope = null)
    {
        var removed = FindOrphans(inScope);
        foreach (var o in removed)
            File.Delete(o.Path);
        var accepted = Pending(inScope);
        foreach (var id in accepted)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(VerifiedPath(id))!);
            File.Move(ReceivedPath(id), VerifiedPath(id), overwrite: true);
        }
        PruneEmptyDirectories(SnapshotsDir);
        return (accepted, removed);
    }

    /// <summary>The verified text of <paramref name="id"/>, or null.</summary>
    public string? ReadVerified(string id) => File.Exists(VerifiedPath(id)) ? ReadText(File.ReadAllBytes(VerifiedPath(id))) : null;

    public string? ReadReceived(string id) => File.Exists(ReceivedPath(id)) ? ReadText(File.ReadAllBytes(ReceivedPath(id))) : null;

    /// <summary>A path relative to the repository (the parent of Snapshots/), with '/' separators, as diffs name files.</summary>
    public string RepoRelative(string path) =>
        Path.GetRelativePath(Path.GetDirectoryName(SnapshotsDir)!, path).Replace(Path.DirectorySeparatorChar, '/');

    private IEnumerable<(string Id, string Path)> Files(string suffix)
    {
        if (!Directory.Exists(SnapshotsDir))
            yield break;
        foreach (var f in Directory.EnumerateFiles(SnapshotsDir, "*" + suffix, SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string rel = Path.GetRelativePath(SnapshotsDir, f).Replace(Path.DirectorySeparatorChar, '/');
            yield return (rel[..^suffix.Length], f);
        }
    }

    // Lenient: a verified file cut in the middle of a UTF-8 sequence is diffed (with U+FFFD), not a crash.
    private static readonly UTF8Encoding LenientUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    private static string ReadText(byte[] bytes) => LenientUtf8.GetString(bytes).TrimStart('\uFEFF');

    private static string ToNative(string id) => id.Replace('/', Path.DirectorySeparatorChar);

    private static void Write(string path, byte[] bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, bytes);
    }

    private static void DeleteIfExists(string path)
    {
        if (File.Exists(path))
            File.Delete(path);
    }

    // An accepted deletion can leave Snapshots/<folder>/ empty; git does not keep empty folders, so neither do we.
    private static void PruneEmptyDirectories(string root)
    {
        if (!Directory.Exists(root))
            return;
        foreach (var d in Directory.EnumerateDirectories(root))
        {
            PruneEmptyDirectories(d);
            if (!Directory.EnumerateFileSystemEntries(d).Any())
                Directory.Delete(d);
        }
    }
}
