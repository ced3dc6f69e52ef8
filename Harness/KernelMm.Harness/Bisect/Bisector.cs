using KernelMm.Harness.State;

namespace KernelMm.Harness.Bisect;

/// <summary>What <c>kmm bisect</c> works out.</summary>
/// <param name="Quick">Only the series-order bisection (<c>--quick</c>), running only the prefixes it tests.</param>
/// <param name="MaxCombinations">The largest table judged exhaustively; a larger series gets ddmin and one-factor-at-a-time effects.</param>
public sealed record BisectOptions(bool Quick = false, int MaxCombinations = 64);

/// <summary>Everything <c>kmm bisect</c> found, for rendering.</summary>
/// <param name="Scenario">The scenario's name.</param>
/// <param name="Ids">The series' patch ids, in series order.</param>
/// <param name="Titles">Their upstream titles.</param>
/// <param name="Condition">The behaviour, as stated.</param>
/// <param name="Bisection">The series-order bisection.</param>
/// <param name="Causes">The minimal causes (null with <c>--quick</c>).</param>
/// <param name="Effects">The toggle effects (null with <c>--quick</c>).</param>
/// <param name="Runs">Combinations run.</param>
/// <param name="Combinations">Combinations in the series (2^n).</param>
/// <param name="Warnings">Things the user should know (an expression that never evaluated, untestable combinations).</param>
public sealed record BisectReport(string Scenario, IReadOnlyList<string> Ids, IReadOnlyList<string> Titles, string Condition,
    SeriesBisectResult Bisection, CauseAnalysis? Causes, EffectsAnalysis? Effects, int Runs, int Combinations, IReadOnlyList<string> Warnings);

/// <summary>
/// <c>kmm bisect</c>: the series-order bisection, the minimal causes and the toggle effects of
/// one scenario, running only the combinations they need. When the table is small enough to
/// judge whole (<see cref="BisectOptions.MaxCombinations"/>) it is run first, in one parallel
/// batch, and everything is read from it; otherwise the bisection runs its prefixes, ddmin its
/// subsets and the effects the singles and pairs, each batch in parallel.
/// </summary>
public static class Bisector
{
    public static BisectReport Run(string scenario, BisectSession session, BisectOptions options)
    {
        var series = session.Series;
        int n = series.Count;
        var ids = series.Ids.ToList();
        bool exhaustive = series.CombinationCount <= options.MaxCombinations;
        if (exhaustive && !options.Quick)
            session.JudgeAll();

        var bisection = SeriesBisection.Run(n, session.Judge);
        CauseAnalysis? causes = null;
        EffectsAnalysis? effects = null;
        if (!options.Quick && n > 0)
        {
            causes = exhaustive ? MinimalCauses.Exhaustive(n, session.JudgeAll(), ids) : MinimalCauses.DeltaDebug(n, session.Judge);
            var needed = ToggleEffects.Needed(n, exhaustive);
            var results = session.Run(needed);
            var states = new Dictionary<int, IReadOnlyList<CheckpointState>>();
            foreach (var r in results.Where(r => r.State is not null))
            {
                var cps = CheckpointState.Parse(r.State!);
                states[r.Combination.Mask] = session.Condition.Checkpoint is { } name ? [.. cps.Where(c => c.Name == name)] : cps;
            }
            effects = ToggleEffects.Compute(n, states, exhaustive, ids);
        }

        var warnings = new List<string>();
        if (session.Condition is WhereCondition { NeverEvaluated: true } w)
            warnings.Add($"the expression read a missing name at every checkpoint of every combination, so nothing could show the behaviour: {string.Join("; ", w.MissingNames)}");
        var untestable = session.Results.Keys.Order().Select(session.Judge).Where(j => j.Verdict == Verdict.Untestable).ToList();
        foreach (var j in untestable.Take(5))
            warnings.Add($"cannot test [{series.Combination(j.Mask).Label}]: {j.Detail}");
        if (untestable.Count > 5)
            warnings.Add($"... and {untestable.Count - 5} more untestable combinations");

        return new BisectReport(scenario, ids, [.. series.Patches.Select(p => p.Title)], session.Condition.Stated, bisection, causes, effects,
            session.Runs, series.CombinationCount, warnings);
    }
}
