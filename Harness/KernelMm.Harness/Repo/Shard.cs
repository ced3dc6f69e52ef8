using System.Globalization;

namespace KernelMm.Harness.Repo;

/// <summary>
/// One of N shards of the suite, for a CI matrix of N machines (<c>kmm run --shard I/N</c>,
/// I from 1): the scenarios, sorted by path as discovery sorts them, are dealt out in turn,
/// so the shards differ in size by at most one, every scenario is in exactly one shard, and
/// the same clone always gives the same partition. Orphan snapshots belong to no scenario:
/// shard 1 reports them.
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

    /// <summary>Whether this shard looks for orphan snapshots (the first one does, so a CI matrix reports each once).</summary>
    public bool ChecksOrphans => Index == 1;

    public override string ToString() => $"{Index}/{Count}";
}
