using KernelMm.Harness.Repo;
using KernelMm.Harness.Snapshots;

namespace KernelMm.Harness.Tests.Bisect;

/// <summary>
/// Text the tests keep as snapshots (bisect reports, compare tables, PR reports), with the
/// project's own store and conventions: <c>tests/KernelMm.Harness.Tests/Verified/ID.verified.txt</c>
/// is committed; a mismatch writes <c>ID.received.txt</c> beside it (KMM_UPDATE, CI as for
/// scenarios) and fails with the diff. Review, then move the received file over the verified
/// one (or run the tests with KMM_UPDATE=always).
/// </summary>
public static class TestSnapshots
{
    public static string Dir { get; } = Path.Combine(
        (RepoLayout.Find(AppContext.BaseDirectory) ?? throw new InvalidOperationException("not inside the clone")).Root,
        "tests", "KernelMm.Harness.Tests", "Verified");

    public static SnapshotStore Store { get; } = new(Dir, Dir, SnapshotPolicy.FromEnvironment());

    public static void Verify(string id, string text)
    {
        var result = Store.Verify(id, text);
        if (!result.Passed)
            Assert.Fail($"{id}: {(result.Status == SnapshotStatus.New ? "no verified snapshot yet" : "snapshot changed")} "
                + $"(received: {result.Received ?? "not written: KMM_UPDATE=no"})\n{result.Diff ?? text}");
    }
}

/// <summary>The tests' own snapshots obey the snapshot text rules, like the scenarios' do.</summary>
public class TestSnapshotFileTests
{
    [Test]
    public void Every_test_snapshot_obeys_the_text_rules()
    {
        var files = Directory.EnumerateFiles(TestSnapshots.Dir, "*" + SnapshotStore.VerifiedSuffix, SearchOption.AllDirectories).ToList();
        Assert.That(files, Is.Not.Empty);
        foreach (var f in files)
            Assert.That(TextRules.Check(File.ReadAllBytes(f)), Is.Empty, f);
    }
}
