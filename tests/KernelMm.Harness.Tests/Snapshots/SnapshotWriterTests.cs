using KernelMm.Harness.Outcomes;
using KernelMm.Harness.Repo;
using KernelMm.Harness.Snapshots;
using KernelMm.Harness.Tests.Fakes;
using KernelMm.Patches;

namespace KernelMm.Harness.Tests.Snapshots;

/// <summary>The layout of a snapshot: what is printed once, what refers back, and that it all reads back.</summary>
public class SnapshotWriterTests
{
    private static readonly Series TwoPatches = new([new FakePatches.Invisible("counter", 1), new FakePatches.Invisible("split", 2)]);

    private static string State(string freePages, bool counter, string dump, string memFree) =>
        "### checkpoint: loaded\n#### vmstat\nnr_free_pages 1000\nnr_kernel_stack 16\n"
        + "#### kernel page tables\n---[ Kernel Space ]---\n0xffff888000000000-0xffff888040000000           1G     RW         PSE         NX pud\n"
        + "#### recorded\nnone\n#### warnings\nnone\n"
        + $"### checkpoint: end\n#### vmstat\nnr_free_pages {freePages}\nnr_kernel_stack 16\n{(counter ? "nr_overhead 260\n" : "")}"
        + $"#### meminfo\nMemTotal:        4100852 kB\nMemFree:         {memFree} kB\nAnonPages:             0 kB\n"
        + $"#### kernel page tables\n---[ Kernel Space ]---\n{dump}"
        + "#### recorded\nnone\n#### warnings\nnone\n";

    private const string Whole = "0xffff888000000000-0xffff888040000000           1G     RW         PSE         NX pud\n";

    private const string Split = "0xffff888000000000-0xffff888000200000           2M     RW                     NX pte\n"
        + "0xffff888000200000-0xffff888040000000        1022M     RW         PSE         NX pmd\n";

    private static readonly Outcome[] Outcomes =
    [
        new("!counter & !split", [0], State("990", false, Whole, "4099180")),
        new("counter & !split", [1], State("990", true, Whole, "4099180")),
        new("!counter & split", [2], State("989", false, Split, "4099176")),
        new("counter & split", [3], State("989", true, Split, "4099176")),
    ];

    private static string Render() => SnapshotRenderer.Render("fake/layout", TwoPatches, Outcomes);

    [Test]
    public void What_every_outcome_has_alike_is_printed_once_and_later_checkpoints_refer_to_it()
    {
        string text = Render();
        Assert.That(text, Does.Contain("## shared by all outcomes\n### checkpoint: loaded\n#### vmstat\nnr_free_pages 1000\nnr_kernel_stack 16\n#### kernel page tables\n"));
        Assert.That(text, Does.Contain("### checkpoint: end\n#### meminfo: lines all outcomes share\nMemTotal:        4100852 kB\nAnonPages:             0 kB\n"
            + "#### recorded: as at checkpoint 'loaded'\n#### warnings: as at checkpoint 'loaded'\n"));
        Assert.That(text, Does.Contain("## outcome 1 of 4: !counter & !split (1 combination)\n### checkpoint: end\n"
            + "#### vmstat: as at checkpoint 'loaded', except:\nnr_free_pages 990\n"
            + "#### meminfo: the shared lines and:\n@@ -1,0 +2 @@\n+MemFree:         4099180 kB\n#### kernel page tables: as at checkpoint 'loaded'\n"));
    }

    [Test]
    public void An_outcome_like_an_earlier_one_lists_only_what_differs_from_it()
    {
        string text = Render();
        Assert.That(text, Does.Contain("## outcome 2 of 4: counter & !split (1 combination)\n(sections not listed here are as in outcome 1)\n### checkpoint: end\n"
            + "#### vmstat: as in outcome 1, except:\n@@ -2,0 +3 @@\n+nr_overhead 260\n\n"));
        Assert.That(text, Does.Contain("## outcome 3 of 4: !counter & split (1 combination)\n### checkpoint: end\n"
            + "#### vmstat: as at checkpoint 'loaded', except:\nnr_free_pages 989\n#### meminfo: as in outcome 1, except:\nMemFree:         4099176 kB\n"));
        Assert.That(text, Does.EndWith("## outcome 4 of 4: counter & split (1 combination)\n(sections not listed here are as in outcome 3)\n### checkpoint: end\n"
            + "#### vmstat: as in outcome 2, except:\nnr_free_pages 989\n"));
    }

    [Test]
    public void Every_outcome_reads_back_whole_and_a_block_that_refers_to_nothing_is_refused()
    {
        string text = Render();
        var back = SnapshotFile.Parse(text).Outcomes;
        Assert.That(back.Select(o => o.State), Is.EqualTo(Outcomes.Select(o => o.State)));
        string broken = text.Replace("(sections not listed here are as in outcome 3)", "(sections not listed here are as in outcome 7)");
        Assert.That(() => SnapshotFile.Parse(broken), Throws.TypeOf<FormatException>().With.Message.Contains("outcome 7, which is not an earlier one"));
    }

    [Test]
    public void Sizes_count_the_file_against_every_outcome_printed_whole()
    {
        string text = Render();
        var size = SnapshotSize.Of(text);
        Assert.That(size.Lines, Is.EqualTo(text.Count(c => c == '\n')));
        int header = 4 + Outcomes.Length;
        Assert.That(size.WholeLines, Is.EqualTo(header + Outcomes.Sum(o => 2 + o.State.Count(c => c == '\n'))));
    }

    [Test]
    public void The_posted_suite_is_at_least_3_times_shorter_than_every_outcome_printed_whole()
    {
        var repo = RepoLayout.Find(AppContext.BaseDirectory)!;
        var total = new SnapshotSize(0, 0);
        foreach (var path in Directory.EnumerateFiles(repo.SnapshotsDir, "*.verified.txt", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var size = SnapshotSize.Of(File.ReadAllText(path));
            TestContext.Out.WriteLine($"{Path.GetRelativePath(repo.Root, path)}: {size.Lines} lines, {size.WholeLines} whole ({size.Ratio:0.00}x)");
            total += size;
        }
        TestContext.Out.WriteLine($"total: {total.Lines} lines, {total.WholeLines} whole ({total.Ratio:0.00}x)");
        Assert.That(total.Ratio, Is.GreaterThanOrEqualTo(3.0));
    }
}
