using DiffPlex;

namespace KernelMm.Harness.Snapshots;

/// <summary>One step of a line edit script: a line kept, removed from the old text or added from the new one, with its indices.</summary>
public readonly record struct EditOp(DiffLineKind Kind, int A, int B);

/// <summary>
/// The line edit script between two texts for <see cref="UnifiedDiff"/>. Ordinary texts get
/// DiffPlex's Myers diff as they always did. Its cost grows with the lines times the edits,
/// so two large snapshots that differ throughout (a broken build changing every page-table
/// line) took minutes; above <see cref="Budget"/> the common head and tail are kept and the
/// rest is anchored on the lines that occur once on each side (patience diff), with DiffPlex
/// only between anchors close enough together. The script is still a correct diff (applying
/// it gives the new text), not always the shortest.
/// </summary>
public static class EditScript
{
    /// <summary>Lines times estimated edits above which DiffPlex is not asked for the whole texts (about half a second of it).</summary>
    public const long Budget = 20_000_000;

    /// <summary>Lines (both sides together) of a stretch between anchors that DiffPlex diffs.</summary>
    public const int SliceLines = 2000;

    public static List<EditOp> Compute(string[] a, string[] b)
    {
        var ops = new List<EditOp>(Math.Max(a.Length, b.Length));
        long lines = a.Length + b.Length;
        if (lines <= SliceLines || lines * Math.Max(1, EditsAtLeast(a, 0, a.Length, b, 0, b.Length)) <= Budget)
            Myers(a, 0, a.Length, b, 0, b.Length, ops);
        else
            Patience(a, 0, a.Length, b, 0, b.Length, ops);
        return ops;
    }

    /// <summary>A lower bound of the edits: lines of each side that the other side does not have as often.</summary>
    private static long EditsAtLeast(string[] a, int aLo, int aHi, string[] b, int bLo, int bHi)
    {
        var count = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = aLo; i < aHi; i++)
            count[a[i]] = count.GetValueOrDefault(a[i]) + 1;
        for (int j = bLo; j < bHi; j++)
            count[b[j]] = count.GetValueOrDefault(b[j]) - 1;
        long edits = 0;
        foreach (var c in count.Values)
            edits += Math.Abs(c);
        return edits;
    }

    // DiffPlex on a[aLo..aHi) and b[bLo..bHi), its blocks flattened into steps.
    private static void Myers(string[] a, int aLo, int aHi, string[] b, int bLo, int bHi, List<EditOp> ops)
    {
        var sa = a[aLo..aHi];
        var sb = b[bLo..bHi];
        var result = new Differ().CreateCustomDiffs(Join(sa), Join(sb), false, false, Split);
        int ia = 0, ib = 0;
        foreach (var block in result.DiffBlocks)
        {
            while (ia < block.DeleteStartA)
                ops.Add(new EditOp(DiffLineKind.Context, aLo + ia++, bLo + ib++));
            for (int i = 0; i < block.DeleteCountA; i++)
                ops.Add(new EditOp(DiffLineKind.Removed, aLo + ia++, bLo + ib));
            for (int i = 0; i < block.InsertCountB; i++)
                ops.Add(new EditOp(DiffLineKind.Added, aLo + ia, bLo + ib++));
        }
        while (ia < sa.Length)
            ops.Add(new EditOp(DiffLineKind.Context, aLo + ia++, bLo + ib++));
    }

    // The texts go to DiffPlex as lines joined by LF with a final LF, and come back split the same way.
    private static string Join(string[] lines) => lines.Length == 0 ? "" : string.Join('\n', lines) + "\n";

    private static string[] Split(string s)
    {
        if (s.Length == 0)
            return [];
        var parts = s.Split('\n');
        return s.EndsWith('\n') ? parts[..^1] : parts;
    }

    private static void Patience(string[] a, int aLo, int aHi, string[] b, int bLo, int bHi, List<EditOp> ops)
    {
        // The common head and tail are context.
        while (aLo < aHi && bLo < bHi && a[aLo] == b[bLo])
            ops.Add(new EditOp(DiffLineKind.Context, aLo++, bLo++));
        int tail = 0;
        while (aLo < aHi - tail && bLo < bHi - tail && a[aHi - 1 - tail] == b[bHi - 1 - tail])
            tail++;
        aHi -= tail;
        bHi -= tail;

        if (aHi - aLo + bHi - bLo <= SliceLines)
        {
            Myers(a, aLo, aHi, b, bLo, bHi, ops);
        }
        else if (Anchors(a, aLo, aHi, b, bLo, bHi) is { Count: > 0 } anchors)
        {
            int pa = aLo, pb = bLo;
            foreach (var (ia, ib) in anchors)
            {
                Patience(a, pa, ia, b, pb, ib, ops);
                ops.Add(new EditOp(DiffLineKind.Context, ia, ib));
                pa = ia + 1;
                pb = ib + 1;
            }
            Patience(a, pa, aHi, b, pb, bHi, ops);
        }
        else
        {
            // Nothing to hold on to: the old lines go, the new ones come.
            for (int i = aLo; i < aHi; i++)
                ops.Add(new EditOp(DiffLineKind.Removed, i, bLo));
            for (int j = bLo; j < bHi; j++)
                ops.Add(new EditOp(DiffLineKind.Added, aHi, j));
        }

        for (int k = 0; k < tail; k++)
            ops.Add(new EditOp(DiffLineKind.Context, aHi + k, bHi + k));
    }

    /// <summary>
    /// The lines that occur exactly once in each range, paired, and of those the longest run
    /// in the same order on both sides (patience sorting): the anchors, in order.
    /// </summary>
    private static List<(int A, int B)> Anchors(string[] a, int aLo, int aHi, string[] b, int bLo, int bHi)
    {
        var inA = new Dictionary<string, int>(StringComparer.Ordinal); // index, or -1 when repeated
        for (int i = aLo; i < aHi; i++)
            inA[a[i]] = inA.ContainsKey(a[i]) ? -1 : i;
        var inB = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int j = bLo; j < bHi; j++)
            inB[b[j]] = inB.ContainsKey(b[j]) ? -1 : j;
        var pairs = new List<(int A, int B)>();
        for (int i = aLo; i < aHi; i++)
            if (inA[a[i]] == i && inB.TryGetValue(a[i], out int j) && j >= 0)
                pairs.Add((i, j));

        // Longest increasing subsequence of the B indices, pairs already in A order.
        var tails = new List<int>(); // index into pairs of the smallest tail of each length
        var prev = new int[pairs.Count];
        for (int k = 0; k < pairs.Count; k++)
        {
            int lo = 0, hi = tails.Count;
            while (lo < hi)
            {
                int mid = (lo + hi) / 2;
                if (pairs[tails[mid]].B < pairs[k].B)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            prev[k] = lo > 0 ? tails[lo - 1] : -1;
            if (lo == tails.Count)
                tails.Add(k);
            else
                tails[lo] = k;
        }
        var run = new List<(int A, int B)>(tails.Count);
        for (int k = tails.Count > 0 ? tails[^1] : -1; k >= 0; k = prev[k])
            run.Add(pairs[k]);
        run.Reverse();
        return run;
    }
}
