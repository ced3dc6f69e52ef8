using System.Diagnostics;
using KernelMm.Harness.Repo;
using KernelMm.Harness.Review;
using KernelMm.Harness.Snapshots;
using KernelMm.Harness.Suite;
using KernelMm.Harness.Tests.Bisect;
using KernelMm.Patches;
using static KernelMm.Harness.Tests.Fakes.FakePatches;

namespace KernelMm.Harness.Tests.Review;

/// <summary>
/// <c>kmm report</c>: which scenarios' snapshots changed, which outcomes and combinations, and
/// the diffs, from received files or from a git revision; the markdown is kept as a snapshot.
/// </summary>
public class ReviewReportTests
{
    private static readonly Series Toggles = Of(new Invisible("quiet", 1), new Invisible("touch", 2));

    private const string Before = "// Records which toggles it saw.\nRecord(\"x\", Patches.IsApplied(\"touch\") ? 1 : 0);\n";

    // quiet now matters where touch is off: one combination of four changes, and an outcome splits.
    private const string After = "// Records which toggles it saw.\nRecord(\"x\", Patches.IsApplied(\"touch\") ? 1 : Patches.IsApplied(\"quiet\") ? 5 : 0);\n";

    private static ScenarioReport Run(TestClone clone, string id, string script, UpdateMode mode = UpdateMode.New) =>
        clone.Runner(Toggles, store: clone.Store(mode)).Run(clone.Scenario($"Scenarios/{id}.csx", script));

    [Test]
    public void Received_against_verified_names_the_changed_outcomes_and_combinations()
    {
        using var clone = new TestClone();
        Assert.That(Run(clone, "kept/same", Before, UpdateMode.Always).Status, Is.EqualTo(ScenarioStatus.Updated));
        Assert.That(Run(clone, "kept/split", Before, UpdateMode.Always).Status, Is.EqualTo(ScenarioStatus.Updated));
        Assert.That(Run(clone, "kept/split", After).Status, Is.EqualTo(ScenarioStatus.Changed));
        Assert.That(Run(clone, "fresh/one", After).Status, Is.EqualTo(ScenarioStatus.New));

        var comparison = SnapshotSources.Pending(clone.Store());
        Assert.That(comparison.Pairs.Select(p => p.Id), Is.EqualTo(new[] { "fresh/one", "kept/split" }));
        var split = ReviewReport.Analyze(comparison.Pairs[1]);
        Assert.That(split.ChangedCombinations, Is.EqualTo(new[] { 1 }));
        Assert.That(split.ChangedFormula, Is.EqualTo("quiet & !touch"));
        Assert.That(split.Gone, Is.EqualTo(new[] { "!touch" }));
        Assert.That(split.Outcomes.Select(o => (o.Formula, o.Changed, o.IsNew)), Is.EqualTo(new[]
        {
            ("!quiet & !touch", 0, true), ("quiet & !touch", 1, true), ("touch", 0, false),
        }));

        // Per changed outcome: the numbers that moved, then its state's diff, ten lines of it.
        string markdown = ReviewReport.Markdown(comparison, maxDiffLines: 10);
        TestSnapshots.Verify("review/received-against-verified", markdown);
        Assert.That(markdown.Length, Is.LessThan(65_536));
    }

    [Test]
    public void Diffs_are_cut_to_keep_the_comment_short()
    {
        using var clone = new TestClone();
        Run(clone, "big/one", Before, UpdateMode.Always);
        Run(clone, "big/one", After);
        Run(clone, "big/two", Before, UpdateMode.Always);
        Run(clone, "big/two", After);
        var comparison = SnapshotSources.Pending(clone.Store());
        string cut = ReviewReport.Markdown(comparison, maxDiffLines: 5);
        // The hint is the same report of that snapshot alone, with every line (ReportHintTests runs it).
        Assert.That(cut, Does.Match(@"\n… \d+ more lines: `kmm report Snapshots/big/one.verified.txt( --max-diff-lines \d+)?` shows them all\n"));
        string stopped = ReviewReport.Markdown(comparison, maxChars: 10);
        Assert.That(stopped, Does.Not.Contain("```diff"));
        Assert.That(stopped, Does.Contain("(outcome 2 left out to keep this comment short: `kmm report Snapshots/big/one.verified.txt` shows every outcome)"));
    }

    // Every outcome changes (x moves everywhere): each gets its table of moved numbers before its
    // diff, and each hunk names the checkpoint and section it is in.
    [Test]
    public void Every_changed_outcome_is_shown_with_the_numbers_that_moved_before_its_diff()
    {
        using var clone = new TestClone();
        Run(clone, "all/moved", Before, UpdateMode.Always);
        Run(clone, "all/moved", "Record(\"x\", Patches.IsApplied(\"touch\") ? 3 : 2);\n");
        string markdown = ReviewReport.Markdown(SnapshotSources.Pending(clone.Store()));
        int first = markdown.IndexOf("#### outcome 1 of 2: `!touch`, changed in `--patches none` (and 1 more of its combinations)", StringComparison.Ordinal);
        int second = markdown.IndexOf("#### outcome 2 of 2: `touch`, changed in `--patches touch` (and 1 more of its combinations)", StringComparison.Ordinal);
        Assert.That(first, Is.GreaterThan(0), markdown);
        Assert.That(second, Is.GreaterThan(first), markdown);
        string one = markdown[first..second];
        Assert.That(one.IndexOf("               0             +2                2  recorded.x", StringComparison.Ordinal),
            Is.GreaterThan(0).And.LessThan(one.IndexOf("```diff", StringComparison.Ordinal)), one);
        Assert.That(one, Does.Contain(" @@ checkpoint 'end' / recorded\n #### recorded\n-x = 0\n+x = 2\n"));
        Assert.That(markdown[second..], Does.Contain("-x = 1\n+x = 3\n"));
    }

    [Test]
    public void Nothing_pending_says_so()
    {
        using var clone = new TestClone();
        Run(clone, "kept/same", Before, UpdateMode.Always);
        Assert.That(ReviewReport.Markdown(SnapshotSources.Pending(clone.Store())),
            Is.EqualTo("## kmm snapshot report\n\nCompared received snapshots against the verified ones: nothing to compare.\n"));
    }

    [Test]
    public void The_working_tree_against_a_git_revision()
    {
        using var clone = new TestClone();
        Run(clone, "kept/same", Before, UpdateMode.Always);
        Run(clone, "kept/split", Before, UpdateMode.Always);
        Run(clone, "gone/old", Before, UpdateMode.Always);
        Git(clone.Root, "init", "-q");
        Git(clone.Root, "add", ".");
        Git(clone.Root, "-c", "user.name=kmm", "-c", "user.email=kmm@example.org", "commit", "-q", "-m", "base");

        Run(clone, "kept/split", After, UpdateMode.Always);
        Run(clone, "fresh/one", After, UpdateMode.Always);
        File.Delete(clone.Store().VerifiedPath("gone/old"));

        var comparison = SnapshotSources.AgainstRevision(clone.Root, clone.Repo.SnapshotsDir, "HEAD");
        Assert.That(comparison.Description, Does.StartWith("the working tree's verified snapshots against HEAD ("));
        Assert.That(comparison.Compared, Is.EqualTo(4));
        var changes = comparison.Pairs.Select(ReviewReport.Analyze).ToList();
        Assert.That(changes.Select(c => (c.Id, c.Status)), Is.EqualTo(new[]
        {
            ("fresh/one", ChangeStatus.Added), ("gone/old", ChangeStatus.Removed), ("kept/split", ChangeStatus.Changed),
        }));
        Assert.That(changes[2].ChangedFormula, Is.EqualTo("quiet & !touch"));
        Assert.That(changes[2].Diff, Does.StartWith("--- a/Snapshots/kept/split.verified.txt\n+++ b/Snapshots/kept/split.verified.txt\n"));
        string markdown = ReviewReport.Markdown(comparison);
        Assert.That(markdown, Does.Contain("3 scenarios differ, 1 unchanged."));
        Assert.That(markdown, Does.Contain("| `gone/old` | removed | 2 (removed) | - |"));
        Assert.That(markdown, Does.Contain("| `fresh/one` | new | 3 (new) | all 4 |"));

        Assert.That(SnapshotSources.AgainstRevision(clone.Root, clone.Repo.SnapshotsDir, "HEAD", id => id.StartsWith("kept/", StringComparison.Ordinal)).Pairs.Select(p => p.Id),
            Is.EqualTo(new[] { "kept/split" }), "paths narrow the report");
        Assert.That(() => SnapshotSources.AgainstRevision(clone.Root, clone.Repo.SnapshotsDir, "no-such-rev"),
            Throws.ArgumentException.With.Message.EqualTo("--against 'no-such-rev': not a git revision here"));
    }

    [Test]
    public void Every_committed_snapshot_reads_back_with_outcomes_that_partition_its_combinations()
    {
        var repo = RepoLayout.Find(AppContext.BaseDirectory)!;
        foreach (var path in Directory.EnumerateFiles(repo.SnapshotsDir, "*.verified.txt", SearchOption.AllDirectories))
        {
            var file = SnapshotFile.Parse(File.ReadAllText(path));
            var seen = new HashSet<int>();
            foreach (var o in file.Outcomes)
            {
                var combos = file.Combinations(o.Formula);
                Assert.That(combos, Is.Not.Null, $"{path}: {o.Formula}");
                Assert.That(combos!, Has.Count.EqualTo(o.Count), $"{path}: outcome {o.Index}: {o.Formula}");
                Assert.That(seen.Overlaps(combos!), Is.False, $"{path}: outcome {o.Index} overlaps another");
                seen.UnionWith(combos!);
            }
            Assert.That(seen, Has.Count.EqualTo(file.CombinationCount), path);
            Assert.That(SnapshotRenderer.Render(file.Scenario, new Series(file.Series.Select((id, i) => (IPatch)new Invisible(id, i + 1))),
                [.. file.Outcomes.Select(o => new KernelMm.Harness.Outcomes.Outcome(o.Formula, file.Combinations(o.Formula)!, o.State))]),
                Is.EqualTo(File.ReadAllText(path)), $"{path} renders back byte for byte");
        }
    }

    private static void Git(string cwd, params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.That(p.ExitCode, Is.EqualTo(0), $"git {string.Join(' ', args)}: {err}");
    }
}
