using System.Diagnostics;
using System.Text.RegularExpressions;

namespace KernelMm.Cli.Tests.Review;

/// <summary>
/// The commands a report prints where it leaves something out ("… 40 more lines: `kmm report
/// Snapshots-upstream/purge.verified.txt --max-diff-lines 52` shows them all") are run as
/// printed, and show what was left out: for the upstream series' snapshot as for the posted
/// one, for received files and against a git revision.
/// </summary>
[NonParallelizable]
public partial class ReportHintTests
{
    private const string Script = """
        var p = Spawn("app");
        var buf = p.Mmap(8.MiB(), at: 0x7f0000000000);
        p.Touch(buf, 8.MiB(), Access.Write, stride: STRIDE);
        p.Madvise(buf, 2.MiB(), Advice.DontNeed);
        Checkpoint("purged");
        Record("VmPTE kB", p.Status["VmPTE"]);
        """;

    private KmmClone _clone = null!;

    [SetUp]
    public void SetUp()
    {
        _clone = new KmmClone();
        _clone.Write("Scenarios/purge.csx", Script.Replace("STRIDE", "64.KiB()"));
        Directory.CreateDirectory(Path.Combine(_clone.Root, "Snapshots-upstream"));
        Assert.That(_clone.Kmm("run").ExitCode, Is.EqualTo(1));
        _clone.Kmm("accept");
        // Every other 64K page touched now: every series' outcomes change.
        _clone.Write("Scenarios/purge.csx", Script.Replace("STRIDE", "128.KiB()"));
    }

    [TearDown]
    public void TearDown() => _clone.Dispose();

    [Test]
    public void The_hints_for_received_snapshots_show_what_the_report_cut()
    {
        Assert.That(_clone.Kmm("run").ExitCode, Is.EqualTo(1));
        var report = _clone.Kmm("report", "--markdown", "--max-diff-lines", "5");
        var hints = Hints(report.Out);
        Assert.That(hints, Does.Contain("kmm report Snapshots-upstream/purge.verified.txt --max-diff-lines " + DiffLines(report.Out, "purge [upstream]")), report.Out);
        Assert.That(hints, Has.Some.StartsWith("kmm report Snapshots/purge.verified.txt"));
        foreach (var hint in hints)
            ShowsEverything(hint, hint.Contains("upstream") ? "purge [upstream]" : "purge:");
        ShowsEverything(Hints(_clone.Kmm("report", "--max-diff-lines", "5").Out).First(), "purge");

        // kmm diff shows the files' text; under each it says which states changed and where their diffs are.
        var diff = _clone.Kmm("diff");
        var said = Regex.Match(diff.Out, @"purge: \d+ of 8 combinations changed state: [^;]+; (kmm report Snapshots-upstream/purge.verified.txt( --max-diff-lines \d+)?) shows each changed outcome's state diff");
        Assert.That(said.Success, Is.True, diff.Out);
        ShowsEverything(said.Groups[1].Value, "purge [upstream]");
    }

    [Test]
    public void The_hints_against_a_revision_name_the_revision()
    {
        Git("init", "-q", "-b", "main");
        Git("add", "-A");
        Git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "before");
        Assert.That(_clone.Kmm("run").ExitCode, Is.EqualTo(1));
        _clone.Kmm("accept");
        var report = _clone.Kmm("report", "--markdown", "--against", "main", "--max-diff-lines", "5");
        var hints = Hints(report.Out);
        Assert.That(hints, Has.Some.StartsWith("kmm report --against main Snapshots-upstream/purge.verified.txt --max-diff-lines "), report.Out);
        foreach (var hint in hints)
            ShowsEverything(hint, hint.Contains("upstream") ? "purge [upstream]" : "purge:");
    }

    // The hint, run as printed (one word per argument: the paths here need no quotes), reports that snapshot alone, with no line cut.
    private void ShowsEverything(string hint, string scenario)
    {
        var args = hint.Split(' ');
        Assert.That(args[0], Is.EqualTo("kmm"));
        var run = _clone.Kmm(args[1..]);
        Assert.That(run.ExitCode, Is.EqualTo(0), $"{hint}\n{run}");
        Assert.That(run.Out, Does.Contain(scenario), hint);
        Assert.That(run.Out, Does.Not.Contain("more diff lines").And.Not.Contain("more lines"), hint);
        Assert.That(run.Out, Does.Contain("1 scenario changed"), $"{hint} reports that snapshot alone:\n{run.Out}");
    }

    private static List<string> Hints(string report) => [.. HintPattern().Matches(report).Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value)];

    // The length of the first cut diff under a scenario's heading: "<summary>diff of its state (52 lines)</summary>".
    private static string DiffLines(string report, string id)
    {
        int at = report.IndexOf($"### `{id}`", StringComparison.Ordinal);
        return Regex.Match(report[at..], @"\((\d+) lines\)</summary>").Groups[1].Value;
    }

    private void Git(params string[] args)
    {
        var psi = new ProcessStartInfo("git") { WorkingDirectory = _clone.Root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.WaitForExit();
        Assert.That(p.ExitCode, Is.EqualTo(0), $"git {string.Join(' ', args)}: {p.StandardError.ReadToEnd()}");
    }

    [GeneratedRegex(@"`(kmm [^`]+)` shows (?:them all|it|every outcome)|more diff lines: (kmm .+) shows them all")]
    private static partial Regex HintPattern();
}
