using KernelMm.Harness.Outcomes;

namespace KernelMm.Harness.Tests.Outcomes;

/// <summary>
/// The minimal sum-of-products cost (literals, then terms) by exhaustive search, with no
/// prime implicants or covers: a DNF is a set of terms whose union is the function, so the
/// cheapest DNF of f is the cheapest path from the empty set to f where each step ORs in a
/// term (Dijkstra over truth tables).
/// </summary>
internal static class BruteForce
{
    /// <summary>Every function of <paramref name="toggles"/> (&lt;= 4) at once: cost indexed by truth table.</summary>
    public static (int Lits, int Terms)[] AllMinimalCosts(int toggles)
    {
        int size = 1 << toggles;
        var terms = AllTerms(toggles).Select(c => (Mask: TruthTable(c, size), c.Literals)).ToArray();
        var cost = Enumerable.Repeat((int.MaxValue, int.MaxValue), 1 << size).ToArray();
        var queue = new PriorityQueue<int, (int, int)>();
        cost[0] = (0, 0);
        queue.Enqueue(0, (0, 0));
        while (queue.TryDequeue(out int f, out var c))
        {
            if (c != cost[f])
                continue;
            foreach (var (mask, lits) in terms)
            {
                int g = f | (int)mask;
                var next = (c.Item1 + lits, c.Item2 + 1);
                if (g == f || next.CompareTo(cost[g]) >= 0)
                    continue;
                cost[g] = next;
                queue.Enqueue(g, next);
            }
        }
        return cost;
    }

    /// <summary>One function: the same search, over subsets of it only (a term outside it can never be used).</summary>
    public static (int Lits, int Terms) MinimalCost(int toggles, IReadOnlyCollection<int> set)
    {
        int size = 1 << toggles;
        ulong target = set.Aggregate(0UL, (acc, m) => acc | 1UL << m);
        var terms = AllTerms(toggles).Select(c => (Mask: TruthTable(c, size), c.Literals)).Where(t => (t.Mask & ~target) == 0).ToArray();
        var cost = new Dictionary<ulong, (int, int)> { [0] = (0, 0) };
        var queue = new PriorityQueue<ulong, (int, int)>();
        queue.Enqueue(0, (0, 0));
        while (queue.TryDequeue(out ulong f, out var c))
        {
            if (f == target)
                return c;
            if (c != cost[f])
                continue;
            foreach (var (mask, lits) in terms)
            {
                ulong g = f | mask;
                var next = (c.Item1 + lits, c.Item2 + 1);
                if (g == f || (cost.TryGetValue(g, out var old) && next.CompareTo(old) >= 0))
                    continue;
                cost[g] = next;
                queue.Enqueue(g, next);
            }
        }
        throw new InvalidOperationException("unreachable: the minterms alone cover any set");
    }

    private static IEnumerable<Cube> AllTerms(int toggles)
    {
        int n = 1;
        for (int i = 0; i < toggles; i++)
            n *= 3;
        for (int code = 0; code < n; code++)
        {
            int care = 0, value = 0, x = code;
            for (int i = 0; i < toggles; i++, x /= 3)
            {
                if (x % 3 == 0)
                    continue;
                care |= 1 << i;
                if (x % 3 == 1)
                    value |= 1 << i;
            }
            yield return new Cube(care, value);
        }
    }

    private static ulong TruthTable(Cube c, int size)
    {
        ulong t = 0;
        for (int m = 0; m < size; m++)
            if (c.Covers(m))
                t |= 1UL << m;
        return t;
    }
}
