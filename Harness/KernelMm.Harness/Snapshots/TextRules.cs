using System.Text;

namespace KernelMm.Harness.Snapshots;

/// <summary>
/// The text rules of a snapshot (DESIGN.md): UTF-8 without BOM, LF only, no trailing
/// spaces, exactly one final newline. The one exemption is ptdump's own
/// "... N entries skipped ... " line, whose trailing space is the kernel's text
/// (<see cref="Model.Dump.PtDump.SkippedLine"/>). <see cref="Normalize"/> makes any rendered text obey
/// them (so a value a script records cannot break a file); <see cref="Check"/> finds what
/// breaks them in a file on disk, for the self-check test.
/// </summary>
public static class TextRules
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The encoding snapshots are written in: UTF-8, no BOM.</summary>
    public static Encoding Utf8NoBom => StrictUtf8;

    public static string Normalize(string text)
    {
        var s = text.TrimStart('\uFEFF').Replace("\r\n", "\n").Replace('\r', '\n');
        var lines = s.Split('\n').Select(l => IsExempt(l) ? l : l.TrimEnd(' ', '\t')).ToList();
        while (lines.Count > 0 && lines[^1].Length == 0)
            lines.RemoveAt(lines.Count - 1);
        return string.Join("\n", lines) + "\n";
    }

    /// <summary>A line whose trailing space is the kernel's own text.</summary>
    public static bool IsExempt(string line) => Model.Dump.PtDump.SkippedLine.IsMatch(line);

    /// <summary>What is wrong with <paramref name="bytes"/> as a snapshot, one message per problem (empty: it obeys the rules).</summary>
    public static IReadOnlyList<string> Check(byte[] bytes)
    {
        var problems = new List<string>();
        if (bytes.Length >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF)
            problems.Add("starts with a UTF-8 byte order mark");
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            problems.Add($"is not valid UTF-8 ({e.Message})");
            return problems;
        }
        if (text.Contains('\r'))
            problems.Add("contains a carriage return (CR)");
        if (text.Length == 0 || !text.EndsWith('\n'))
            problems.Add("does not end with a newline");
        else if (text.EndsWith("\n\n", StringComparison.Ordinal))
            problems.Add("ends with more than one newline");
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            var l = lines[i].TrimEnd('\r');
            if (l.Length > 0 && (l[^1] == ' ' || l[^1] == '\t') && !IsExempt(l))
                problems.Add($"line {i + 1} has trailing whitespace");
        }
        return problems;
    }
}
