namespace KernelMm.Harness.Bisect;

/// <summary>One step of the series-order bisection: the prefix tested and its verdict, with git bisect's estimate of what is left.</summary>
/// <param name="Prefix">How many patches of the series were applied (1 = the first patch alone).</param>
/// <param name="Verdict">What it showed.</param>
/// <param name="LeftAfter">Prefixes left to test after this one, whichever way it goes (git bisect's count).</param>
/// <param name="StepsAfter">Roughly how many steps that takes.</param>
public sealed record BisectStep(int Prefix, Verdict Verdict, int LeftAfter, int StepsAfter);

/// <summary>How the series-order bisection ended.</summary>
public enum BisectEnd
{
    /// <summary>The first bad prefix was found.</summary>
    Found,

    /// <summary>The series is empty: nothing to bisect.</summary>
    EmptySeries,

    /// <summary>The base kernel (no patches) already shows the behaviour.</summary>
    BaseBad,

    /// <summary>The base kernel cannot be tested.</summary>
    BaseUntestable,

    /// <summary>The whole series applied cannot be tested.</summary>
    AllUntestable,

    /// <summary>The whole series applied does not show the behaviour (another combination may: see the causes).</summary>
    NeverBad,

    /// <summary>Untestable prefixes hide the first bad one: it is one of <see cref="SeriesBisectResult.Candidates"/>.</summary>
    Skipped,
}

/// <summary>The series-order bisection's outcome.</summary>
/// <param name="End">How it ended.</param>
/// <param name="Steps">The prefixes tested between the two ends, in order.</param>
/// <param name="FirstBad">The first bad prefix (its length) when found.</param>
/// <param name="Candidates">Where untestable prefixes hide it: the prefixes the first bad one may be.</param>
/// <param name="Base">The base kernel's verdict.</param>
/// <param name="All">The whole series' verdict.</param>
/// <param name="FirstBadDetail">Where the first bad prefix shows the behaviour.</param>
public sealed record SeriesBisectResult(BisectEnd End, IReadOnlyList<BisectStep> Steps, int? FirstBad, IReadOnlyList<int> Candidates,
    Judgement? Base, Judgement? All, string FirstBadDetail = "");

/// <summary>
/// Bisects the series in series order, as <c>git bisect</c> bisects history: prefix k applies
/// the first k patches cumulatively (none, 1, 1-2, 1-2-3...); prefix 0 must be good and the
/// whole series bad, then the middle prefix is tested until the first bad one is pinned. An
/// untestable prefix is skipped, as <c>git bisect skip</c> does, and the nearest other one
/// tested instead.
/// </summary>
public static class SeriesBisection
{
    /// <summary>The mask of prefix <paramref name="k"/>: the first k patches.</summary>
    public static int Prefix(int k) => (1 << k) - 1;

    /// <param name="patches">Patches in the series.</param>
    /// <param name="judge">Verdicts of a batch of combinations (the ends are asked for together, so they run in parallel).</param>
    public static SeriesBisectResult Run(int patches, Func<IReadOnlyList<int>, IReadOnlyList<Judgement>> judge)
    {
        if (patches == 0)
            return new SeriesBisectResult(BisectEnd.EmptySeries, [], null, [], null, null);
        var ends = judge([0, Prefix(patches)]);
        var (baseJ, allJ) = (ends[0], ends[1]);
        SeriesBisectResult End(BisectEnd e) => new(e, [], null, [], baseJ, allJ);
        if (baseJ.Verdict == Verdict.Untestable)
            return End(BisectEnd.BaseUntestable);
        if (baseJ.Verdict == Verdict.Bad)
            return End(BisectEnd.BaseBad);
        if (allJ.Verdict == Verdict.Untestable)
            return End(BisectEnd.AllUntestable);
        if (allJ.Verdict == Verdict.Good)
            return End(BisectEnd.NeverBad);

        int good = 0, bad = patches;
        string badDetail = allJ.Detail;
        var skipped = new HashSet<int>();
        var steps = new List<BisectStep>();
        while (true)
        {
            var open = Enumerable.Range(good + 1, bad - good - 1).Where(k => !skipped.Contains(k)).ToList();
            if (open.Count == 0)
            {
                var hidden = Enumerable.Range(good + 1, bad - good - 1).Where(skipped.Contains).ToList();
                return hidden.Count == 0
                    ? new SeriesBisectResult(BisectEnd.Found, steps, bad, [bad], baseJ, allJ, badDetail)
                    : new SeriesBisectResult(BisectEnd.Skipped, steps, null, [.. hidden, bad], baseJ, allJ);
            }
            // The untested prefix nearest the middle (the lower one on a tie), as git bisect picks the midpoint commit.
            double middle = (good + bad) / 2.0;
            int mid = open.OrderBy(k => Math.Abs(k - middle)).ThenBy(k => k).First();
            var judged = judge([Prefix(mid)])[0];
            var verdict = judged.Verdict;
            // git bisect's "N revisions left to test after this": what stays open in the worse case.
            int left = Math.Max(open.Count(k => k < mid), open.Count(k => k > mid));
            steps.Add(new BisectStep(mid, verdict, left, Steps(left)));
            switch (verdict)
            {
                case Verdict.Bad:
                    bad = mid;
                    badDetail = judged.Detail;
                    break;
                case Verdict.Good: good = mid; break;
                default: skipped.Add(mid); break;
            }
        }
    }

    /// <summary>git bisect's "roughly N steps": about log2 of what is left.</summary>
    public static int Steps(int left) => left <= 0 ? 0 : (int)Math.Ceiling(Math.Log2(left + 1));
}
