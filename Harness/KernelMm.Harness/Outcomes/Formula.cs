namespace KernelMm.Harness.Outcomes;

/// <summary>
/// Prints a cover as the outcome label: terms joined by <c> | </c>, literals by <c> &amp; </c>
/// (which binds tighter, so no parentheses are needed), <c>!id</c> for a patch that is off,
/// <c>all</c> for every combination, <c>none</c> for no combination.
/// </summary>
public static class Formula
{
    public static string Render(IReadOnlyList<Cube> cover, IReadOnlyList<string> ids)
    {
        if (cover.Count == 0)
            return "none";
        if (cover.Any(c => c.Care == 0))
            return "all";
        return string.Join(" | ", cover.Select(c => Term(c, ids)));
    }

    private static string Term(Cube c, IReadOnlyList<string> ids)
    {
        var lits = new List<string>();
        for (int i = 0; i < ids.Count; i++)
        {
            if ((c.Care & (1 << i)) == 0)
                continue;
            lits.Add((c.Value & (1 << i)) != 0 ? ids[i] : "!" + ids[i]);
        }
        return string.Join(" & ", lits);
    }

    /// <summary>The smallest formula over <paramref name="ids"/> selecting exactly <paramref name="combinations"/>.</summary>
    public static string For(IEnumerable<int> combinations, IReadOnlyList<string> ids) =>
        Render(FormulaMinimizer.Minimize(ids.Count, combinations), ids);

    /// <summary>Evaluates a cover on one combination (used by the tests to check labels against the sets they name).</summary>
    public static bool Selects(IReadOnlyList<Cube> cover, int combination) => cover.Any(c => c.Covers(combination));
}
