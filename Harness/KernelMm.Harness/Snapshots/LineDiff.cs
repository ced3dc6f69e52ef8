using System.Globalization;
using System.Text.RegularExpressions;
using DiffPlex;

namespace KernelMm.Harness.Snapshots;

/// <summary>
/// Line edits between two blocks of lines, written as unified-diff hunks without context
/// (<c>@@ -3,0 +4 @@</c> then <c>+nr_overhead 260</c>): the lines of a kernel format name
/// themselves, so the changed lines alone read well, and the hunk positions make the edit
/// exact. A snapshot leaves the removed lines out (the lines it refers to are printed above):
/// the header's count says how many go. <see cref="Apply"/> rebuilds the new lines from the
/// old ones and the hunks, and refuses hunks that do not fit.
/// </summary>
public static partial class LineDiff
{
    /// <summary>The hunks turning <paramref name="a"/> into <paramref name="b"/> (empty when equal).</summary>
    /// <param name="a">The old lines.</param>
    /// <param name="b">The new lines.</param>
    /// <param name="removed">Whether to list the removed lines (<c>-line</c>), or only count them in the header.</param>
    public static List<string> Hunks(IReadOnlyList<string> a, IReadOnlyList<string> b, bool removed = true)
    {
        var hunks = new List<string>();
        foreach (var (delA, countA, insB, countB) in Blocks(a, b))
        {
            hunks.Add($"@@ -{Range(delA, countA)} +{Range(insB, countB)} @@");
            for (int i = 0; removed && i < countA; i++)
                hunks.Add("-" + a[delA + i]);
            for (int i = 0; i < countB; i++)
                hunks.Add("+" + b[insB + i]);
        }
        return hunks;
    }

    /// <summary>
    /// The lines common to <paramref name="a"/> and <paramref name="b"/> in order (a longest
    /// common subsequence as DiffPlex's Myers diff finds it): what both outcomes share.
    /// </summary>
    public static List<string> Common(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        var common = new List<string>();
        int ia = 0;
        foreach (var (delA, countA, _, _) in Blocks(a, b))
        {
            while (ia < delA)
                common.Add(a[ia++]);
            ia += countA;
        }
        while (ia < a.Count)
            common.Add(a[ia++]);
        return common;
    }

    /// <summary>Applies hunks of <see cref="Hunks"/> to <paramref name="a"/>; throws <see cref="FormatException"/> when they do not fit it.</summary>
    public static List<string> Apply(IReadOnlyList<string> a, IReadOnlyList<string> hunks)
    {
        var result = new List<string>();
        int ia = 0;
        int k = 0;
        while (k < hunks.Count)
        {
            var m = HunkHeader().Match(hunks[k++]);
            if (!m.Success)
                throw new FormatException($"expected a hunk header (@@ -a,b +c,d @@), found '{hunks[k - 1]}'");
            int start = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            int count = m.Groups[2].Success ? int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) : 1;
            int at = count == 0 ? start : start - 1;
            if (at < ia || at + count > a.Count)
                throw new FormatException($"hunk '{hunks[k - 1]}' does not fit a block of {a.Count} lines");
            while (ia < at)
                result.Add(a[ia++]);
            bool listed = k < hunks.Count && hunks[k].StartsWith('-');
            for (; k < hunks.Count && hunks[k].StartsWith('-'); k++)
            {
                if (ia >= a.Count || a[ia] != hunks[k][1..])
                    throw new FormatException($"hunk line '{hunks[k]}' is not line {ia + 1} of the block it changes");
                ia++;
            }
            if (!listed)
                ia += count;
            if (ia != at + count)
                throw new FormatException($"hunk '{m.Value}' removes {count} lines but lists {ia - at}");
            for (; k < hunks.Count && hunks[k].StartsWith('+'); k++)
                result.Add(hunks[k][1..]);
        }
        while (ia < a.Count)
            result.Add(a[ia++]);
        return result;
    }

    private static IEnumerable<(int DelA, int CountA, int InsB, int CountB)> Blocks(IReadOnlyList<string> a, IReadOnlyList<string> b)
    {
        if (a.SequenceEqual(b, StringComparer.Ordinal))
            yield break;
        // DiffPlex diffs strings split by a chunker: hand it the lines joined and split them back.
        var result = new Differ().CreateCustomDiffs(string.Join('\n', a), string.Join('\n', b), false, false,
            s => s.Length == 0 ? [] : s.Split('\n'));
        // An empty block list joins to "" either way: the chunker keeps that apart from one empty line.
        if (a.Count == 1 && a[0].Length == 0 || b.Count == 1 && b[0].Length == 0)
            throw new ArgumentException("a block of one empty line cannot be diffed");
        foreach (var block in result.DiffBlocks)
            yield return (block.DeleteStartA, block.DeleteCountA, block.InsertStartB, block.InsertCountB);
    }

    // diff -u numbers lines from 1; an empty range is shown at the line before it.
    private static string Range(int start, int count) => count switch
    {
        0 => $"{start},0",
        1 => $"{start + 1}",
        _ => $"{start + 1},{count}",
    };

    [GeneratedRegex(@"^@@ -(\d+)(?:,(\d+))? \+\d+(?:,\d+)? @@$")]
    private static partial Regex HunkHeader();
}
