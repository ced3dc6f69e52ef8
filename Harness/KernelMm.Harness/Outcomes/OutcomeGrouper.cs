namespace KernelMm.Harness.Outcomes;

/// <summary>
/// Groups combinations by byte-identical state. Outcomes come in the order of their first
/// combination in binary order, so the base kernel's outcome (all patches off) is first.
/// </summary>
public static class OutcomeGrouper
{
    /// <param name="states">The state text of combination i at index i.</param>
    /// <param name="ids">The patch ids in series order (bit i of a combination is patch i).</param>
    public static IReadOnlyList<Outcome> Group(IReadOnlyList<string> states, IReadOnlyList<string> ids)
    {
        if (states.Count != 1 << ids.Count)
            throw new ArgumentException($"{states.Count} states for {1 << ids.Count} combinations", nameof(states));
        var groups = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        var order = new List<string>();
        for (int c = 0; c < states.Count; c++)
        {
            if (!groups.TryGetValue(states[c], out var list))
            {
                groups[states[c]] = list = [];
                order.Add(states[c]);
            }
            list.Add(c);
        }
        return order.Select(s => new Outcome(Formula.For(groups[s], ids), groups[s], s)).ToList();
    }
}
