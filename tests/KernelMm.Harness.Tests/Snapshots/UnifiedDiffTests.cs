using KernelMm.Harness.Snapshots;

namespace KernelMm.Harness.Tests.Snapshots;

public class UnifiedDiffTests
{
    [Test]
    public void Equal_texts_have_no_diff() => Assert.That(UnifiedDiff.Render("a\nb\n", "a\nb\n", "x", "y"), Is.Empty);

    [Test]
    public void One_change_in_the_middle_has_three_lines_of_context()
    {
        string old = string.Concat(Enumerable.Range(1, 10).Select(i => $"{i}\n"));
        string @new = old.Replace("5\n", "five\n");
        Assert.That(UnifiedDiff.Render(old, @new, "a/s.verified.txt", "b/s.received.txt"), Is.EqualTo(
            "--- a/s.verified.txt\n+++ b/s.received.txt\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"));
    }

    [Test]
    public void Distant_changes_make_separate_hunks()
    {
        string old = string.Concat(Enumerable.Range(1, 30).Select(i => $"{i}\n"));
        string @new = old.Replace("\n3\n", "\nthree\n").Replace("\n27\n", "\n").Replace("30\n", "30\n31\n");
        var lines = UnifiedDiff.Lines(old, @new, "a", "b");
        Assert.That(lines.Count(l => l.Kind == DiffLineKind.HunkHeader), Is.EqualTo(2));
        Assert.That(lines.Where(l => l.Kind == DiffLineKind.Removed).Select(l => l.Text), Is.EqualTo(new[] { "-3", "-27" }));
        Assert.That(lines.Where(l => l.Kind == DiffLineKind.Added).Select(l => l.Text), Is.EqualTo(new[] { "+three", "+31" }));
    }

    [Test]
    public void A_new_file_diffs_from_nothing()
    {
        Assert.That(UnifiedDiff.Render("", "a\nb\n", "/dev/null", "b"), Is.EqualTo("--- /dev/null\n+++ b\n@@ -0,0 +1,2 @@\n+a\n+b\n"));
    }
}
