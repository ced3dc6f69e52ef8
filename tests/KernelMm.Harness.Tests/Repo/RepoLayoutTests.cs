using KernelMm.Harness.Repo;

namespace KernelMm.Harness.Tests.Repo;

public class RepoLayoutTests
{
    [Test]
    public void Finds_the_root_from_below_and_describes_scenarios()
    {
        using var clone = new TestClone();
        clone.Write("Scenarios/x/y.csx", "");
        string deep = Path.Combine(clone.Root, "Scenarios", "x");
        var repo = RepoLayout.Find(deep)!;
        Assert.That(repo.Root, Is.EqualTo(clone.Root));
        var f = repo.Describe(Path.Combine(deep, "y.csx"));
        Assert.That(f, Is.EqualTo(new ScenarioFile(Path.Combine(deep, "y.csx"), "Scenarios/x/y.csx", "x/y", "x/y")));
    }

    [Test]
    public void A_script_outside_Scenarios_has_no_snapshot()
    {
        using var clone = new TestClone();
        using var elsewhere = new TempDir();
        string path = elsewhere.Write("repro.csx", "");
        var f = clone.Repo.Describe(path);
        Assert.That(f.SnapshotId, Is.Null);
        Assert.That(f.Name, Is.EqualTo("repro"));
        Assert.That(f.DisplayPath, Is.EqualTo(path));
        Assert.That(clone.Repo.Describe(clone.Write("tools/r.csx", "")).DisplayPath, Is.EqualTo("tools/r.csx"));
    }

    [Test]
    public void Discovers_sorted_and_rejects_missing_paths()
    {
        using var clone = new TestClone();
        clone.Write("Scenarios/b.csx", "");
        clone.Write("Scenarios/a/z.csx", "");
        clone.Write("Scenarios/a/notes.txt", "");
        Assert.That(clone.Repo.Discover([]).Select(f => f.Name), Is.EqualTo(new[] { "a/z", "b" }));
        Assert.That(clone.Repo.Discover([Path.Combine(clone.Root, "Scenarios", "a")]).Select(f => f.Name), Is.EqualTo(new[] { "a/z" }));
        Assert.Throws<FileNotFoundException>(() => clone.Repo.Discover([Path.Combine(clone.Root, "nope.csx")]));
    }

    [Test]
    public void Scope_covers_folders_files_and_gone_scenarios()
    {
        using var clone = new TestClone();
        clone.Write("Scenarios/a/z.csx", "");
        var scope = clone.Repo.Scope([Path.Combine(clone.Root, "Scenarios", "a"), Path.Combine(clone.Root, "Scenarios", "gone.csx")]);
        Assert.That(scope("a/z"), Is.True);
        Assert.That(scope("gone"), Is.True);
        Assert.That(scope("b"), Is.False);
        var snapshots = clone.Repo.Scope([Path.Combine(clone.Root, "Snapshots", "a", "z.verified.txt")]);
        Assert.That(snapshots("a/z"), Is.True);
        Assert.That(snapshots("a/y"), Is.False);
    }
}
