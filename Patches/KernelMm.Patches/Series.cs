using KernelMm.Model;
using KernelMm.Model.Boot;

namespace KernelMm.Patches;

/// <summary>
/// The patches of a series in series order, and the 2^n combinations of them. Combination
/// <c>c</c> enables patch <c>i</c> (0-based series position) when bit <c>i</c> of <c>c</c>
/// is set, so combination 0 is the base kernel and the binary order starts all-off.
/// </summary>
public sealed class Series
{
    /// <summary>More toggles than this would make the matrix (2^n kernels per scenario) impractical.</summary>
    public const int MaxPatches = 16;

    public Series(IEnumerable<IPatch> patches)
    {
        var list = patches.OrderBy(p => p.Order).ToList();
        if (list.Count > MaxPatches)
            throw new ArgumentException($"a series of {list.Count} patches has too many combinations to run (max {MaxPatches})");
        foreach (var dup in list.GroupBy(p => p.Id).Where(g => g.Count() > 1))
            throw new ArgumentException($"patch id '{dup.Key}' is used twice in the series");
        foreach (var dup in list.GroupBy(p => p.Order).Where(g => g.Count() > 1))
            throw new ArgumentException($"series position {dup.Key} is taken by {string.Join(" and ", dup.Select(p => p.Id))}");
        Patches = list;
    }

    /// <summary>The series as registered in <see cref="UpstreamSeries"/>.</summary>
    public static Series Upstream { get; } = new(UpstreamSeries.Patches());

    public IReadOnlyList<IPatch> Patches { get; }

    public int Count => Patches.Count;

    /// <summary>2^n.</summary>
    public int CombinationCount => 1 << Count;

    public IEnumerable<string> Ids => Patches.Select(p => p.Id);

    /// <summary>The series position of <paramref name="id"/>, or -1.</summary>
    public int IndexOf(string id)
    {
        for (int i = 0; i < Patches.Count; i++)
            if (Patches[i].Id == id)
                return i;
        return -1;
    }

    public Combination Combination(int mask) => new(this, mask);

    public IEnumerable<Combination> Combinations() => Enumerable.Range(0, CombinationCount).Select(Combination);

    /// <summary>
    /// Parses <c>none</c>, <c>all</c> or a comma-separated list of ids (the CLI's
    /// <c>--patches</c>). Throws <see cref="ArgumentException"/> naming an unknown id.
    /// </summary>
    public Combination Parse(string spec)
    {
        string s = spec.Trim();
        if (s == "none")
            return Combination(0);
        if (s == "all")
            return Combination(CombinationCount - 1);
        int mask = 0;
        foreach (var raw in s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int i = IndexOf(raw);
            if (i < 0)
                throw new ArgumentException(Count == 0
                    ? $"no patch '{raw}': the series is empty (use 'none' or 'all')"
                    : $"no patch '{raw}' in the series ({string.Join(", ", Ids)})");
            mask |= 1 << i;
        }
        return Combination(mask);
    }

    /// <summary>Boots a kernel and applies the combination's patches in series order.</summary>
    public Kernel Boot(BootOptions options, Combination combination)
    {
        if (!ReferenceEquals(combination.Series, this))
            throw new ArgumentException("the combination belongs to another series", nameof(combination));
        // Patches hook the seams before the boot sequence runs, so they see boot-time work too.
        return new Kernel(options, k =>
        {
            foreach (var p in combination.Enabled)
                p.Apply(k);
        });
    }
}
