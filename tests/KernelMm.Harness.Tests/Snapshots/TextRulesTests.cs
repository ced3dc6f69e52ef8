using System.Text;
using KernelMm.Harness.Snapshots;

namespace KernelMm.Harness.Tests.Snapshots;

public class TextRulesTests
{
    [Test]
    public void Good_text_passes() => Assert.That(TextRules.Check(Encoding.UTF8.GetBytes("a\n  b\n")), Is.Empty);

    [TestCase("a", "does not end with a newline")]
    [TestCase("a\n\n", "ends with more than one newline")]
    [TestCase("a\r\n", "carriage return")]
    [TestCase("a \n", "line 1 has trailing whitespace")]
    [TestCase("a\nb\t\n", "line 2 has trailing whitespace")]
    public void Each_rule_is_enforced(string text, string problem) =>
        Assert.That(TextRules.Check(Encoding.UTF8.GetBytes(text)), Has.Some.Contains(problem));

    [Test]
    public void Ptdump_skipped_line_keeps_its_kernel_trailing_space()
    {
        const string text = "---[ ESPfix Area ]---\n... 131057 entries skipped ... \n... 1 entry skipped ... \n";
        Assert.That(TextRules.Check(Encoding.UTF8.GetBytes(text)), Is.Empty);
        Assert.That(TextRules.Normalize(text), Is.EqualTo(text));
        // Only that line: another line ending in "... " is still trailing whitespace.
        Assert.That(TextRules.Check(Encoding.UTF8.GetBytes("... 3 pages skipped ... \n")), Has.Some.Contains("line 1 has trailing whitespace"));
        Assert.That(TextRules.Check(Encoding.UTF8.GetBytes("... 3 entries skipped ...  \n")), Has.Some.Contains("line 1 has trailing whitespace"));
    }

    [Test]
    public void BOM_and_invalid_UTF8_are_found()
    {
        Assert.That(TextRules.Check([0xEF, 0xBB, 0xBF, (byte)'a', (byte)'\n']), Has.Some.Contains("byte order mark"));
        Assert.That(TextRules.Check([(byte)'a', 0xFF, (byte)'\n']), Has.Some.Contains("not valid UTF-8"));
    }

    [Test]
    public void Normalize_produces_text_that_passes()
    {
        string n = TextRules.Normalize("\uFEFFx  \r\ny\rz\t\n\n\n");
        Assert.That(n, Is.EqualTo("x\ny\nz\n"));
        Assert.That(TextRules.Check(TextRules.Utf8NoBom.GetBytes(n)), Is.Empty);
    }
}
