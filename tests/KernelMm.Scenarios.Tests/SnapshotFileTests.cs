using KernelMm.Harness.Snapshots;

namespace KernelMm.Scenarios.Tests;

/// <summary>
/// The self-check of the committed snapshots: each obeys the text rules (UTF-8 without
/// BOM, LF, one final newline, no trailing spaces, no CR), and none is an orphan in CI.
/// </summary>
public class SnapshotFileTests
{
    public static IEnumerable<string> VerifiedFiles() =>
        Clone.Stores.Where(s => Directory.Exists(s.SnapshotsDir))
            .SelectMany(s => Directory.EnumerateFiles(s.SnapshotsDir, "*" + SnapshotStore.VerifiedSuffix, SearchOption.AllDirectories))
            .Select(f => Path.GetRelativePath(Clone.Repo.Root, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal);

    [TestCaseSource(nameof(VerifiedFiles))]
    public void Text_rules(string snapshot)
    {
        var problems = TextRules.Check(File.ReadAllBytes(Path.Combine(Clone.Repo.Root, snapshot)));
        Assert.That(problems, Is.Empty, $"{snapshot} breaks the snapshot text rules");
    }

    /// <summary>The page-table dump's ESPfix section ends with note_page's own line, trailing space and all.</summary>
    [Test]
    public void The_ptdump_skipped_line_keeps_the_kernels_trailing_space()
    {
        var text = File.ReadAllText(Path.Combine(Clone.Repo.Root, "Snapshots/kaiser/pti-off.verified.txt"));
        Assert.That(text, Does.Contain("\n... 131057 entries skipped ... \n---[ EFI Runtime Services ]---\n"));
    }

    [Test]
    public void No_snapshot_is_an_orphan()
    {
        var orphans = Clone.Stores.SelectMany(s => s.FindOrphans()).ToList();
        if (orphans.Count == 0)
            return;
        string list = string.Join("\n", orphans.Select(o => Clone.Display(o.Path)));
        if (Clone.Store.Policy.OrphansFail)
            Assert.Fail($"orphan snapshots (their scenario is gone; `kmm accept` removes them):\n{list}");
        Assert.Warn($"orphan snapshots, which `kmm accept` removes:\n{list}");
    }
}
