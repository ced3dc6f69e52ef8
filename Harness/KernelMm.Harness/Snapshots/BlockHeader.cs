using System.Globalization;
using System.Text.RegularExpressions;
using KernelMm.Harness.State;

namespace KernelMm.Harness.Snapshots;

/// <summary>How a block of a snapshot gives a unit's lines.</summary>
public enum BlockKind
{
    /// <summary>The lines follow, whole.</summary>
    Full,

    /// <summary>
    /// In the shared part: the lines every outcome shows of a unit that differs; each outcome adds
    /// its own. With a target, they are as at that earlier checkpoint of the shared part (with hunks after except).
    /// </summary>
    SharedLines,

    /// <summary>In an outcome: the shared part's lines with these hunks (only additions).</summary>
    SharedLinesAnd,

    /// <summary>The same unit at an earlier checkpoint (of this outcome, or of the shared part).</summary>
    AsAtCheckpoint,

    /// <summary>The same unit at this checkpoint of an earlier outcome.</summary>
    AsInOutcome,

    /// <summary>Another process of this checkpoint, printed before it.</summary>
    AsProcess,
}

/// <summary>
/// The header line of a block: <c>#### vmstat</c>, <c>#### kernel page tables: as at checkpoint 'touched'</c>,
/// <c>##### process 3 (w): as process 2 (w), except:</c>, <c>#### vmstat: lines all outcomes share</c>,
/// <c>#### vmstat: lines all outcomes share, as at checkpoint 'touched', except:</c>,
/// <c>#### vmstat: the shared lines and:</c>, <c>#### meminfo: as in outcome 1, except:</c>.
/// With <c>except</c>, the lines of <see cref="UnitDiff"/> follow; after the shared lines and, hunks of <see cref="LineDiff"/>.
/// </summary>
public sealed partial record BlockHeader(string Key, BlockKind Kind, string? Target = null, bool Except = false)
{
    public bool HasHunks => Except || Kind == BlockKind.SharedLinesAnd;

    public override string ToString()
    {
        string head = (StateUnit.IsProcessKey(Key) ? "##### " : "#### ") + Key;
        string? suffix = Kind switch
        {
            BlockKind.Full => null,
            BlockKind.SharedLines => Target is null ? "lines all outcomes share" : $"lines all outcomes share, as at checkpoint '{Target}'",
            BlockKind.SharedLinesAnd => "the shared lines and:",
            BlockKind.AsAtCheckpoint => $"as at checkpoint '{Target}'",
            BlockKind.AsInOutcome => $"as in outcome {Target}",
            _ => $"as {Target}",
        };
        return suffix is null ? head : head + ": " + suffix + (Except ? ", except:" : "");
    }

    /// <summary>The header a line is, or null for a line of a block's body (a memcg's <c>##### memcg</c> line among them).</summary>
    public static BlockHeader? Parse(string line)
    {
        if (!line.StartsWith("#### ", StringComparison.Ordinal) && !line.StartsWith("##### process ", StringComparison.Ordinal))
            return null;
        var m = Header().Match(line);
        string key = m.Groups["key"].Value;
        if (line.StartsWith("##### ", StringComparison.Ordinal) != StateUnit.IsProcessKey(key))
            return null;
        bool except = m.Groups["except"].Success;
        if (m.Groups["cp"].Success)
            return new BlockHeader(key, BlockKind.AsAtCheckpoint, m.Groups["cp"].Value, except);
        if (m.Groups["outcome"].Success)
            return new BlockHeader(key, BlockKind.AsInOutcome, int.Parse(m.Groups["outcome"].Value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture), except);
        if (m.Groups["process"].Success)
            return new BlockHeader(key, BlockKind.AsProcess, m.Groups["process"].Value, except);
        if (m.Groups["share"].Success)
            return new BlockHeader(key, BlockKind.SharedLines, m.Groups["scp"].Success ? m.Groups["scp"].Value : null, except);
        if (m.Groups["and"].Success)
            return new BlockHeader(key, BlockKind.SharedLinesAnd);
        return new BlockHeader(key, BlockKind.Full);
    }

    [GeneratedRegex(@"^#{4,5} (?<key>.*?)(?:: (?:as at checkpoint '(?<cp>.*)'|as in outcome (?<outcome>\d+)|as (?<process>process \d+ \(.*\))|(?<share>lines all outcomes share)(?:, as at checkpoint '(?<scp>.*)')?|(?<and>the shared lines and:))(?<except>, except:)?)?$")]
    private static partial Regex Header();
}
