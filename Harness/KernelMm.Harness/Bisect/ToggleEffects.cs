using KernelMm.Harness.Outcomes;
using KernelMm.Harness.State;

namespace KernelMm.Harness.Bisect;

/// <summary>A patch's main effect on one metric: the change applying it makes, over the pairs of combinations that differ only in it.</summary>
/// <param name="Metric">The metric (<c>meminfo.MemFree</c>, or <c>checkpoint: meminfo.MemFree</c> when several checkpoints are judged).</param>
/// <param name="Patch">The patch's series position.</param>
/// <param name="Mean">The mean change.</param>
/// <param name="Min">The smallest change over the pairs.</param>
/// <param name="Max">The largest change over the pairs.</param>
/// <param name="Pairs">Pairs of combinations it is taken over.</param>
public sealed record MainEffect(string Metric, int Patch, double Mean, double Min, double Max, int Pairs);

/// <summary>A metric that exists in some combinations only (a counter a patch adds), and the formula selecting them.</summary>
public sealed record Presence(string Metric, string Where, int Count);

/// <summary>How one metric shows an interaction: the effect of patch B with patch A applied, and without it.</summary>
public sealed record InteractionMetric(string Metric, double With, double Without);

/// <summary>Two patches whose effects interact: the effect of the later one (B) depends on whether the earlier one (A) is applied.</summary>
public sealed record Interaction(int A, int B, IReadOnlyList<InteractionMetric> Metrics);

/// <summary>What each patch does to the numbers, and which pairs interact.</summary>
/// <param name="Factorial">From the full 2^n table (else one factor at a time around the base kernel: singles and pairs).</param>
/// <param name="Combinations">Combinations the effects are taken from.</param>
/// <param name="Main">Non-zero main effects, by metric in state order, then by patch.</param>
/// <param name="Presence">Metrics missing from some combinations.</param>
/// <param name="Interactions">Pairs whose effects interact, in series order.</param>
public sealed record EffectsAnalysis(bool Factorial, int Combinations, IReadOnlyList<MainEffect> Main, IReadOnlyList<Presence> Presence,
    IReadOnlyList<Interaction> Interactions);

/// <summary>
/// Toggle effects over the numeric metrics of the judged checkpoints (vmstat, events, meminfo,
/// per-process status, memcg, numeric recorded values). From the full table they are the
/// main effects and two-factor interactions of a 2^n factorial design, taken as mean paired
/// differences: the effect of patch p is the mean of y(C + p) - y(C) over every combination C
/// without p; A and B interact on a metric when the effect of B with A applied differs from
/// its effect without. For a large series (one factor at a time): the effect of p is
/// y({p}) - y({}), and of B with A, y({A,B}) - y({A}). A metric missing from a combination
/// (a counter only a patch adds) is left out of the pairs it is missing from, and reported
/// by where it exists.
/// </summary>
public static class ToggleEffects
{
    private const double Epsilon = 1e-9;

    /// <summary>The masks an analysis needs: all of them, or the base kernel, the singles and the pairs.</summary>
    public static IReadOnlyList<int> Needed(int patches, bool factorial)
    {
        if (factorial)
            return [.. Enumerable.Range(0, 1 << patches)];
        var masks = new List<int> { 0 };
        for (int a = 0; a < patches; a++)
        {
            masks.Add(1 << a);
            for (int b = a + 1; b < patches; b++)
                masks.Add((1 << a) | (1 << b));
        }
        return masks;
    }

    /// <summary>The metrics of one combination's judged checkpoints, keyed as the report names them.</summary>
    public static IReadOnlyDictionary<string, double> Metrics(IReadOnlyList<CheckpointState> checkpoints, List<string> order)
    {
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var cp in checkpoints)
        {
            foreach (var m in cp.Metrics())
            {
                string key = checkpoints.Count > 1 ? $"{cp.Name}: {m.Key}" : m.Key;
                if (values.TryAdd(key, m.Value) && !order.Contains(key))
                    order.Add(key);
            }
        }
        return values;
    }

    /// <param name="patches">Patches in the series.</param>
    /// <param name="states">The judged checkpoints of each testable combination, by mask (untestable ones left out).</param>
    /// <param name="factorial">Whether <paramref name="states"/> is the full table.</param>
    /// <param name="ids">Patch ids, for presence formulas.</param>
    public static EffectsAnalysis Compute(int patches, IReadOnlyDictionary<int, IReadOnlyList<CheckpointState>> states, bool factorial,
        IReadOnlyList<string> ids)
    {
        var order = new List<string>();
        var values = new Dictionary<int, IReadOnlyDictionary<string, double>>();
        foreach (var mask in states.Keys.Order())
            values[mask] = Metrics(states[mask], order);

        double? Y(int mask, string metric) =>
            values.TryGetValue(mask, out var v) && v.TryGetValue(metric, out double d) ? d : null;

        var main = new List<MainEffect>();
        var presence = new List<Presence>();
        foreach (var metric in order)
        {
            var present = values.Where(kv => kv.Value.ContainsKey(metric)).Select(kv => kv.Key).Order().ToList();
            if (present.Count < values.Count)
                presence.Add(new Presence(metric, factorial && values.Count == 1 << patches ? Formula.For(present, ids) : $"{present.Count} of {values.Count} combinations", present.Count));
            for (int p = 0; p < patches; p++)
            {
                var diffs = Bases(patches, factorial, p).Select(m => (Y(m | (1 << p), metric), Y(m, metric)))
                    .Where(t => t.Item1 is not null && t.Item2 is not null).Select(t => t.Item1!.Value - t.Item2!.Value).ToList();
                if (diffs.Count > 0 && diffs.Any(d => Math.Abs(d) > Epsilon))
                    main.Add(new MainEffect(metric, p, diffs.Average(), diffs.Min(), diffs.Max(), diffs.Count));
            }
        }

        var interactions = new List<Interaction>();
        for (int a = 0; a < patches; a++)
        {
            for (int b = a + 1; b < patches; b++)
            {
                var metrics = new List<InteractionMetric>();
                int bitA = 1 << a, bitB = 1 << b;
                var bases = factorial ? Enumerable.Range(0, 1 << patches).Where(m => (m & (bitA | bitB)) == 0).ToList() : [0];
                foreach (var metric in order)
                {
                    var with = new List<double>();
                    var without = new List<double>();
                    foreach (int m in bases)
                    {
                        if (Y(m | bitA | bitB, metric) is { } ab && Y(m | bitA, metric) is { } ya && Y(m | bitB, metric) is { } yb && Y(m, metric) is { } y0)
                        {
                            with.Add(ab - ya);
                            without.Add(yb - y0);
                        }
                    }
                    if (with.Count > 0 && Math.Abs(with.Average() - without.Average()) > Epsilon)
                        metrics.Add(new InteractionMetric(metric, with.Average(), without.Average()));
                }
                if (metrics.Count > 0)
                    interactions.Add(new Interaction(a, b, metrics));
            }
        }
        return new EffectsAnalysis(factorial, values.Count, main, presence, interactions);
    }

    // The combinations without patch p that its effect is measured from.
    private static IEnumerable<int> Bases(int patches, bool factorial, int p) =>
        factorial ? Enumerable.Range(0, 1 << patches).Where(m => (m & (1 << p)) == 0) : [0];
}
