using System.Numerics;
using KernelMm.Harness.Outcomes;

namespace KernelMm.Harness.Bisect;

/// <summary>
/// A smallest set of patches whose application alone (over no patches) makes the behaviour
/// appear: applying exactly these is bad, applying any proper subset of them is not.
/// </summary>
/// <param name="Mask">The patches (bit i: patch i).</param>
/// <param name="Supersets">Tested combinations that apply all of them (itself included); -1 when not known (ddmin).</param>
/// <param name="BadSupersets">Of those, how many show the behaviour: all of them when it is sufficient whatever else is applied.</param>
/// <param name="BadWithout">Bad combinations that lack at least one of them: 0 when the set is necessary.</param>
public sealed record Cause(int Mask, int Supersets, int BadSupersets, int BadWithout)
{
    public int Size => BitOperations.PopCount((uint)Mask);

    /// <summary>Every tested combination that applies the set is bad.</summary>
    public bool Sufficient => Supersets > 0 && BadSupersets == Supersets;

    /// <summary>No bad combination lacks any of its patches.</summary>
    public bool Necessary => Supersets >= 0 && BadWithout == 0;
}

/// <summary>The minimal causes of the behaviour.</summary>
/// <param name="Exhaustive">From the full table of combinations (else from delta debugging).</param>
/// <param name="Causes">Smallest first, then in series order.</param>
/// <param name="Bad">The bad combinations among those judged.</param>
/// <param name="Judged">How many combinations were judged.</param>
/// <param name="Untestable">Combinations that could not be judged (they count as not bad).</param>
/// <param name="BadFormula">The smallest formula selecting exactly the bad combinations (exhaustive, with none untestable).</param>
/// <param name="NecessaryPatches">Patches that every bad combination applies (exhaustive only).</param>
/// <param name="DeltaDebugTests">Combinations ddmin asked about (0 when exhaustive).</param>
public sealed record CauseAnalysis(bool Exhaustive, IReadOnlyList<Cause> Causes, IReadOnlyList<int> Bad, int Judged, IReadOnlyList<int> Untestable,
    string? BadFormula, IReadOnlyList<int> NecessaryPatches, int DeltaDebugTests);

/// <summary>
/// Minimal causes, exhaustively from the table of all 2^n combinations (every inclusion-minimal
/// bad set, with its sufficiency and necessity across the table), or for a series too large
/// to run that way, by delta debugging: Zeller's ddmin on the set of patches, each round's
/// subsets (then complements) judged as one parallel batch, finding one 1-minimal cause.
/// </summary>
public static class MinimalCauses
{
    /// <param name="patches">Patches in the series.</param>
    /// <param name="table">The verdict of every combination, indexed by mask.</param>
    /// <param name="ids">Patch ids, for the formula.</param>
    public static CauseAnalysis Exhaustive(int patches, IReadOnlyList<Judgement> table, IReadOnlyList<string> ids)
    {
        int size = 1 << patches;
        if (table.Count != size)
            throw new ArgumentException($"{table.Count} verdicts for {size} combinations", nameof(table));
        bool IsBad(int m) => table[m].Verdict == Verdict.Bad;
        var bad = Enumerable.Range(0, size).Where(IsBad).ToList();
        var untestable = Enumerable.Range(0, size).Where(m => table[m].Verdict == Verdict.Untestable).ToList();

        var causes = new List<Cause>();
        foreach (int s in bad)
        {
            if (Submasks(s).Any(IsBad))
                continue;
            var supersets = Enumerable.Range(0, size).Where(m => (m & s) == s && table[m].Verdict != Verdict.Untestable).ToList();
            causes.Add(new Cause(s, supersets.Count, supersets.Count(IsBad), bad.Count(m => (m & s) != s)));
        }
        var necessary = bad.Count == 0 ? [] : Enumerable.Range(0, patches).Where(i => bad.All(m => (m & (1 << i)) != 0)).ToList();
        string? formula = untestable.Count == 0 ? Formula.For(bad, ids) : null;
        return new CauseAnalysis(true, Order(causes, patches), bad, size, untestable, formula, necessary, 0);
    }

    /// <summary>
    /// Delta debugging for a series too large to judge every combination: the single patches
    /// and the whole series are judged (one batch); every single bad patch is a cause; when none
    /// is and the whole series is bad, ddmin shrinks it to one 1-minimal cause (removing any one
    /// of its patches makes the behaviour disappear).
    /// </summary>
    public static CauseAnalysis DeltaDebug(int patches, Func<IReadOnlyList<int>, IReadOnlyList<Judgement>> judge)
    {
        int all = (1 << patches) - 1;
        var asked = new HashSet<int>();
        IReadOnlyList<Judgement> Ask(IReadOnlyList<int> masks)
        {
            asked.UnionWith(masks);
            return judge(masks);
        }

        var first = Ask([0, .. Enumerable.Range(0, patches).Select(i => 1 << i), all]);
        var verdicts = first.ToDictionary(j => j.Mask, j => j.Verdict);
        var causes = Enumerable.Range(0, patches).Where(i => verdicts[1 << i] == Verdict.Bad)
            .Select(i => new Cause(1 << i, -1, -1, -1)).ToList();
        if (causes.Count == 0 && verdicts[all] == Verdict.Bad && verdicts[0] != Verdict.Bad)
            causes.Add(new Cause(Ddmin(Enumerable.Range(0, patches).ToList(), Ask), -1, -1, -1));

        var judged = asked.Select(m => judge([m])[0]).ToList();
        return new CauseAnalysis(false, Order(causes, patches),
            [.. judged.Where(j => j.Verdict == Verdict.Bad).Select(j => j.Mask).Order()], asked.Count,
            [.. judged.Where(j => j.Verdict == Verdict.Untestable).Select(j => j.Mask).Order()], null, [], asked.Count);
    }

    /// <summary>
    /// ddmin (Zeller and Hildebrandt, 2002) over patch indices whose combination is bad: split
    /// into n parts, go on with a bad part (n = 2) or a bad complement (n - 1), else double n;
    /// stop when n reaches the set's size. Untestable counts as not bad ("unresolved").
    /// </summary>
    public static int Ddmin(IReadOnlyList<int> patches, Func<IReadOnlyList<int>, IReadOnlyList<Judgement>> judge)
    {
        var c = patches.ToList();
        int n = 2;
        while (c.Count >= 2)
        {
            var parts = Split(c, n);
            var partVerdicts = judge([.. parts.Select(Mask)]);
            int badPart = Index(partVerdicts);
            if (badPart >= 0)
            {
                c = parts[badPart];
                n = 2;
                continue;
            }
            if (n > 2)
            {
                var complements = parts.Select(p => c.Except(p).ToList()).ToList();
                int badComplement = Index(judge([.. complements.Select(Mask)]));
                if (badComplement >= 0)
                {
                    c = complements[badComplement];
                    n = Math.Max(n - 1, 2);
                    continue;
                }
            }
            if (n >= c.Count)
                break;
            n = Math.Min(2 * n, c.Count);
        }
        return Mask(c);

        static int Index(IReadOnlyList<Judgement> js)
        {
            for (int i = 0; i < js.Count; i++)
                if (js[i].Verdict == Verdict.Bad)
                    return i;
            return -1;
        }
    }

    /// <summary>The patch indices of a mask, in series order.</summary>
    public static IEnumerable<int> Members(int mask) => Enumerable.Range(0, 31).Where(i => (mask & (1 << i)) != 0);

    private static int Mask(IEnumerable<int> patches) => patches.Aggregate(0, (m, i) => m | (1 << i));

    private static List<List<int>> Split(List<int> c, int n)
    {
        var parts = new List<List<int>>();
        int start = 0;
        for (int i = 0; i < n; i++)
        {
            int end = start + (c.Count - start) / (n - i);
            parts.Add(c.GetRange(start, end - start));
            start = end;
        }
        return parts;
    }

    // Proper submasks of s, the empty one (no patches) included.
    private static IEnumerable<int> Submasks(int s)
    {
        if (s == 0)
            yield break;
        for (int t = (s - 1) & s; ; t = (t - 1) & s)
        {
            yield return t;
            if (t == 0)
                yield break;
        }
    }

    // Smallest first; among equals, the one whose patches come first in the series.
    private static List<Cause> Order(List<Cause> causes, int patches) =>
        [.. causes.OrderBy(c => c.Size).ThenBy(c => SeriesKey(c.Mask, patches))];

    private static string SeriesKey(int mask, int patches) =>
        string.Concat(Enumerable.Range(0, patches).Select(i => (mask & (1 << i)) != 0 ? '0' : '1'));
}
