using KernelMm.Harness.Snapshots;

namespace KernelMm.Harness.Tests.Snapshots;

public class LineDiffTests
{
    private static readonly string[] Loaded =
        ["MemTotal:        4100852 kB", "MemFree:         4099180 kB", "AnonPages:             0 kB", "KernelStack:          16 kB",
         "PageTables:            0 kB", "VmallocTotal:   34359738367 kB", "VmallocUsed:           0 kB", "DirectMap4k:        2048 kB"];

    [Test]
    public void One_changed_counter_is_one_hunk_of_two_lines()
    {
        string[] end = [.. Loaded];
        end[1] = "MemFree:         4099520 kB";
        Assert.That(LineDiff.Hunks(Loaded, end), Is.EqualTo(new[] { "@@ -2 +2 @@", "-MemFree:         4099180 kB", "+MemFree:         4099520 kB" }));
    }

    [Test]
    public void An_added_counter_is_an_insertion_after_the_line_it_follows()
    {
        string[] vmstat = ["nr_free_pages 1", "nr_kernel_stack 16", "nr_bounce 0"];
        string[] with = ["nr_free_pages 1", "nr_kernel_stack 16", "nr_overhead 260", "nr_bounce 0"];
        Assert.That(LineDiff.Hunks(vmstat, with), Is.EqualTo(new[] { "@@ -2,0 +3 @@", "+nr_overhead 260" }));
        Assert.That(LineDiff.Apply(vmstat, LineDiff.Hunks(vmstat, with)), Is.EqualTo(with));
        Assert.That(LineDiff.Common(vmstat, with), Is.EqualTo(vmstat));
    }

    [Test]
    public void Hunks_rebuild_the_new_lines_at_the_start_the_end_and_from_nothing()
    {
        string[] a = ["1", "2", "3", "4", "5"];
        foreach (string[] b in new[] { new[] { "0", "1", "2", "3", "4", "5" }, ["1", "2", "3", "4"], ["2", "x", "4", "5", "6"], [], ["only"] })
            Assert.That(LineDiff.Apply(a, LineDiff.Hunks(a, b)), Is.EqualTo(b), string.Join(",", b));
        Assert.That(LineDiff.Apply([], LineDiff.Hunks([], a)), Is.EqualTo(a));
    }

    [Test]
    public void Hunks_that_do_not_fit_are_refused()
    {
        string[] a = ["1", "2", "3"];
        Assert.That(() => LineDiff.Apply(a, ["@@ -2 +2 @@", "-x", "+y"]), Throws.TypeOf<FormatException>().With.Message.Contains("is not line 2"));
        Assert.That(() => LineDiff.Apply(a, ["@@ -9 +9 @@", "-x"]), Throws.TypeOf<FormatException>().With.Message.Contains("does not fit"));
        Assert.That(() => LineDiff.Apply(a, ["-1"]), Throws.TypeOf<FormatException>().With.Message.Contains("expected a hunk header"));
    }

    [Test]
    public void Hunks_without_the_removed_lines_count_them_in_the_header_and_rebuild_the_same()
    {
        string[] a = ["1", "2", "3", "4", "5"];
        string[] b = ["1", "x", "y", "5", "6"];
        var hunks = LineDiff.Hunks(a, b, removed: false);
        Assert.That(hunks, Is.EqualTo(new[] { "@@ -2,3 +2,2 @@", "+x", "+y", "@@ -5,0 +5 @@", "+6" }));
        Assert.That(LineDiff.Apply(a, hunks), Is.EqualTo(b));
        Assert.That(() => LineDiff.Apply(["1"], hunks), Throws.TypeOf<FormatException>().With.Message.Contains("does not fit"));
    }
}
