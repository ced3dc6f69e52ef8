using KernelMm.Harness.Snapshots;

namespace KernelMm.Harness.Tests.Snapshots;

/// <summary>The snapshot lifecycle in a temp clone: Scenarios/ and Snapshots/ side by side.</summary>
public class SnapshotStoreTests
{
    private TempDir _dir = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = new TempDir();
        _dir.Write("Scenarios/a/b.csx", "// scenario");
    }

    [TearDown]
    public void TearDown() => _dir.Dispose();

    private SnapshotStore Store(UpdateMode mode, bool ci = false) =>
        new(Path.Combine(_dir.Path, "Scenarios"), Path.Combine(_dir.Path, "Snapshots"), new SnapshotPolicy(mode, ci));

    private string Verified => Path.Combine(_dir.Path, "Snapshots", "a", "b.verified.txt");
    private string Received => Path.Combine(_dir.Path, "Snapshots", "a", "b.received.txt");

    [Test]
    public void New_mode_writes_received_for_a_missing_snapshot_and_fails()
    {
        var r = Store(UpdateMode.New).Verify("a/b", "state 1\n");
        Assert.That(r.Status, Is.EqualTo(SnapshotStatus.New));
        Assert.That(r.Passed, Is.False);
        Assert.That(File.ReadAllText(Received), Is.EqualTo("state 1\n"));
        Assert.That(File.Exists(Verified), Is.False);
    }

    [Test]
    public void Accept_moves_received_over_verified_then_it_verifies_and_stale_received_is_deleted()
    {
        var store = Store(UpdateMode.New);
        store.Verify("a/b", "state 1\n");
        var (accepted, removed) = store.Accept();
        Assert.That(accepted, Is.EqualTo(new[] { "a/b" }));
        Assert.That(removed, Is.Empty);
        Assert.That(File.ReadAllText(Verified), Is.EqualTo("state 1\n"));
        Assert.That(File.Exists(Received), Is.False);

        File.WriteAllText(Received, "stale");
        var r = store.Verify("a/b", "state 1\n");
        Assert.That(r.Status, Is.EqualTo(SnapshotStatus.Verified));
        Assert.That(File.Exists(Received), Is.False, "a pass deletes a stale received file");
    }

    [Test]
    public void A_change_writes_received_with_a_diff_and_keeps_verified()
    {
        var store = Store(UpdateMode.New);
        Directory.CreateDirectory(Path.GetDirectoryName(Verified)!);
        File.WriteAllText(Verified, "one\ntwo\n");
        var r = store.Verify("a/b", "one\nthree\n");
        Assert.That(r.Status, Is.EqualTo(SnapshotStatus.Changed));
        Assert.That(File.ReadAllText(Verified), Is.EqualTo("one\ntwo\n"));
        Assert.That(File.ReadAllText(Received), Is.EqualTo("one\nthree\n"));
        Assert.That(r.Diff, Does.Contain("-two\n+three\n"));
    }

    [Test]
    public void No_mode_writes_nothing()
    {
        var store = Store(UpdateMode.No, ci: true);
        Assert.That(store.Verify("a/b", "x\n").Status, Is.EqualTo(SnapshotStatus.New));
        Assert.That(Directory.Exists(Path.Combine(_dir.Path, "Snapshots")), Is.False);
        Directory.CreateDirectory(Path.GetDirectoryName(Verified)!);
        File.WriteAllText(Verified, "y\n");
        Assert.That(store.Verify("a/b", "x\n").Status, Is.EqualTo(SnapshotStatus.Changed));
        Assert.That(File.Exists(Received), Is.False);
        Assert.That(File.ReadAllText(Verified), Is.EqualTo("y\n"));
    }

    [Test]
    public void Always_mode_overwrites_verified_and_passes()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Verified)!);
        File.WriteAllText(Verified, "old\n");
        File.WriteAllText(Received, "older\n");
        var r = Store(UpdateMode.Always).Verify("a/b", "new\n");
        Assert.That(r.Status, Is.EqualTo(SnapshotStatus.Updated));
        Assert.That(r.Passed, Is.True);
        Assert.That(File.ReadAllText(Verified), Is.EqualTo("new\n"));
        Assert.That(File.Exists(Received), Is.False);
    }

    [Test]
    public void Written_text_obeys_the_text_rules()
    {
        Store(UpdateMode.Always).Verify("a/b", "\uFEFFline with trailing spaces   \r\nsecond\r\n\n\n");
        var bytes = File.ReadAllBytes(Verified);
        Assert.That(TextRules.Check(bytes), Is.Empty);
        Assert.That(File.ReadAllText(Verified), Is.EqualTo("line with trailing spaces\nsecond\n"));
    }

    [Test]
    public void Orphans_are_found_and_accept_removes_them()
    {
        var store = Store(UpdateMode.New);
        _dir.Write("Snapshots/a/b.verified.txt", "kept\n");
        _dir.Write("Snapshots/gone/c.verified.txt", "orphan\n");
        _dir.Write("Snapshots/gone/c.received.txt", "orphan too\n");
        var orphans = store.FindOrphans();
        Assert.That(orphans.Select(o => o.Id), Is.EqualTo(new[] { "gone/c", "gone/c" }));

        var (_, removed) = store.Accept();
        Assert.That(removed, Has.Count.EqualTo(2));
        Assert.That(Directory.Exists(Path.Combine(_dir.Path, "Snapshots", "gone")), Is.False, "the emptied folder goes too");
        Assert.That(File.Exists(Verified), Is.True);
        Assert.That(store.FindOrphans(), Is.Empty);
    }

    [Test]
    public void Accept_respects_its_scope()
    {
        _dir.Write("Scenarios/other.csx", "");
        var store = Store(UpdateMode.New);
        store.Verify("a/b", "1\n");
        store.Verify("other", "2\n");
        var (accepted, _) = store.Accept(id => id.StartsWith("a/", StringComparison.Ordinal));
        Assert.That(accepted, Is.EqualTo(new[] { "a/b" }));
        Assert.That(store.Pending(), Is.EqualTo(new[] { "other" }));
    }

    [Test]
    public void In_CI_orphans_fail_and_locally_they_do_not()
    {
        Assert.That(new SnapshotPolicy(UpdateMode.No, Ci: true).OrphansFail, Is.True);
        Assert.That(new SnapshotPolicy(UpdateMode.New, Ci: false).OrphansFail, Is.False);
    }
}
