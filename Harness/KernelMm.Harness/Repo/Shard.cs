using System.Globalization;

namespace KernelMm.Harness.Repo;

/// <summary>
/// One of N shards of the suite, for a CI matrix of N machines (<c>kmm run --shard I/N</c>,
/// I from 1). Without costs the scenarios, sorted by path as discovery sorts them, are dealt
/// out in turn, so the shards differ in size by at most one. With costs (see
/// <see cref="ScenarioCosts"/>) they are dealt by time: the longest first, each to the shard
/// with the least so far (the LPT rule: within 4/3 of the best split), ties to the earlier
/// path and the lower shard. Either way every scenario is in exactly one shard, in path
/// order, and the same clone always gives the same partition. Orphan snapshots belong to no
/// scenario: shard 1 reports them.
/// </summary>
public readonly record struct Shard(int Index, int Count)
{
    /// <summary>Every scenario: the same as no --shard.</summary>
    public static Shard All { get; } = new(1, 1);

    /// <summary>Parses <c>I/N</c> (1 &lt;= I &lt;= N); throws <see cref="ArgumentException"/> saying what is expected.</summary>
    public static Shard Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length == 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int i)
            && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n)
            && n >= 1 && i >= 1 && i <= n)
            return new Shard(i, n);
        throw new ArgumentException($"--shard '{text}': expected I/N with 1 <= I <= N (e.g. 1/4)");
    }

    /// <summary>This shard's items: every N-th, starting at the I-th.</summary>
    public IReadOnlyList<T> Select<T>(IReadOnlyList<T> items)
    {
        var (index, count) = (Index, Count);
        return [.. items.Where((_, k) => k % count == index - 1)];
    }

    /// <summary>This shard's items when item k costs <paramref name="costs"/>[k]: the LPT deal, in their order.</summary>
    public IReadOnlyList<T> Select<T>(IReadOnlyList<T> items, IReadOnlyList<double> costs)
    {
        if (costs.Count != items.Count)
            throw new ArgumentException("one cost per item", nameof(costs));
        var load = new double[Count];
        var shardOf = new int[items.Count];
        foreach (int k in Enumerable.Range(0, items.Count).OrderByDescending(k => costs[k]).ThenBy(k => k))
        {
            int best = 0;
            for (int s = 1; s < Count; s++)
                if (load[s] < load[best])
                    best = s;
            load[best] += costs[k];
            shardOf[k] = best;
        }
        int mine = Index - 1;
        return [.. items.Where((_, k) => shardOf[k] == mine)];
    }

    /// <summary>Whether this shard looks for orphan snapshots (the first one does, so a CI matrix reports each once).</summary>
    public bool ChecksOrphans => Index == 1;

    public override string ToString() => $"{Index}/{Count}";
}
