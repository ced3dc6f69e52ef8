namespace KernelMm.Patches;

/// <summary>"Did you mean ...?": the known names nearest to a mistyped one, by edit distance (as git suggests commands).</summary>
public static class Spelling
{
    /// <summary>
    /// The candidates within a distance of a third of the longer name (at least 2), nearest
    /// first, then in the order given; a candidate that starts with or contains the typed
    /// name counts as near too. One that shares nothing with it (every letter replaced) is
    /// never suggested, however short both names are.
    /// </summary>
    public static IReadOnlyList<string> Nearest(string typed, IEnumerable<string> candidates, int max = 3)
    {
        string t = (typed ?? "").Trim();
        if (t.Length == 0)
            return [];
        return [.. candidates
            .Select((c, i) => (Name: c, Order: i, Distance: Distance(t, c)))
            .Where(x => (x.Distance <= Math.Max(2, Math.Max(t.Length, x.Name.Length) / 3)
                    && x.Distance < Math.Max(t.Length, x.Name.Length))
                || (t.Length >= 3 && x.Name.Contains(t, StringComparison.OrdinalIgnoreCase)))
            .OrderBy(x => x.Distance).ThenBy(x => x.Order)
            .Select(x => x.Name)
            .Distinct()
            .Take(max)];
    }

    /// <summary>" (did you mean a or b?)", or "" when nothing is near.</summary>
    public static string DidYouMean(string typed, IEnumerable<string> candidates)
    {
        var near = Nearest(typed, candidates);
        return near.Count == 0 ? "" : $" (did you mean {string.Join(" or ", near)}?)";
    }

    /// <summary>Levenshtein distance, case-insensitive.</summary>
    public static int Distance(string a, string b)
    {
        a = a.ToLowerInvariant();
        b = b.ToLowerInvariant();
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
            prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }
}
