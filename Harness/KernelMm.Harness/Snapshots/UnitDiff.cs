using System.Text.RegularExpressions;

namespace KernelMm.Harness.Snapshots;

/// <summary>
/// What a block says after <c>, except:</c>: the lines of a unit that differ from the one it
/// refers to. First the counter, status and recorded lines whose value changed, each as the
/// unit prints it (<c>MemFree:   4090984 kB</c>, <c>pgfree 832</c>, <c>VmPTE kB = 20</c>): a line
/// with a name replaces the referred unit's line of that name, so a changed value is one line
/// that reads like the section itself. Then, for everything else (page-table dump lines, lines added or removed),
/// hunks of <see cref="LineDiff"/> without the removed lines: the unit referred to, printed
/// once above, has them.
/// </summary>
public static partial class UnitDiff
{
    /// <summary>The lines turning <paramref name="basis"/> into <paramref name="target"/> (empty when equal).</summary>
    public static List<string> Diff(IReadOnlyList<string> basis, IReadOnlyList<string> target)
    {
        var named = new List<string>();
        var replaced = basis.ToList();
        var basisNames = UniqueNames(basis);
        var targetNames = UniqueNames(target);
        foreach (var (name, t) in targetNames.OrderBy(x => x.Value))
            if (basisNames.TryGetValue(name, out int b) && basis[b] != target[t])
            {
                named.Add(target[t]);
                replaced[b] = target[t];
            }
        // By name only where it helps: a line moved or renamed diffs better as hunks alone.
        var hunksAfter = LineDiff.Hunks(replaced, target, removed: false);
        var hunksOnly = LineDiff.Hunks(basis, target, removed: false);
        return named.Count + hunksAfter.Count <= hunksOnly.Count ? [.. named, .. hunksAfter] : hunksOnly;
    }

    /// <summary>Applies what <see cref="Diff"/> gives; throws <see cref="FormatException"/> where it does not fit <paramref name="basis"/>.</summary>
    public static List<string> Apply(IReadOnlyList<string> basis, IReadOnlyList<string> diff)
    {
        var result = basis.ToList();
        var names = UniqueNames(basis);
        int k = 0;
        for (; k < diff.Count && !diff[k].StartsWith("@@", StringComparison.Ordinal); k++)
        {
            if (Name(diff[k]) is not { } name)
                throw new FormatException($"'{diff[k]}' is neither a counter line nor a hunk header");
            if (!names.TryGetValue(name, out int at))
                throw new FormatException($"'{diff[k]}': the section it refers to has no line '{name}' (or more than one)");
            result[at] = diff[k];
        }
        return LineDiff.Apply(result, diff.Skip(k).ToList());
    }

    /// <summary>
    /// The name of a counter or status line (<c>MemFree:</c>, <c>VmPTE:</c>, <c>nr_free_pages</c>,
    /// <c>memory.stat pagetables</c>: the text before its number) or of a recorded value
    /// (<c>VmPTE kB =</c>: its key, which cannot contain " = "); null for any other line.
    /// </summary>
    public static string? Name(string line)
    {
        var m = NamedLine().Match(line);
        if (m.Success)
            return m.Groups["name"].Value;
        int eq = line.IndexOf(" = ", StringComparison.Ordinal);
        // A hunk line or header starts with '@', '+' or '-'; a name must not be taken for one.
        return eq > 0 && "@+-#".IndexOf(line[0]) < 0 ? line[..(eq + 2)] : null;
    }

    // Names that occur once: a memcg's lines repeat under each memcg, so they diff as hunks.
    private static Dictionary<string, int> UniqueNames(IReadOnlyList<string> lines)
    {
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        var repeated = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < lines.Count; i++)
            if (Name(lines[i]) is { } n && !names.TryAdd(n, i))
                repeated.Add(n);
        foreach (var n in repeated)
            names.Remove(n);
        return names;
    }

    // "MemFree:         4099356 kB", "VmPTE:         148 kB", "nr_free_pages 1024839", "memory.stat pagetables 12288".
    [GeneratedRegex(@"^(?<name>[A-Za-z_][\w().]*:|[A-Za-z_][\w.]*(?: [A-Za-z_][\w.]*)*) +-?\d+(?: kB)?$")]
    private static partial Regex NamedLine();
}
