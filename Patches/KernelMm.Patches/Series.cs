using KernelMm.Model;
using KernelMm.Model.Boot;

namespace KernelMm.Patches;

/// <summary>
/// The patches of a series in series order, and the 2^n combinations of them. Combination
/// <c>c</c> enables patch <c>i</c> (0-based series position) when bit <c>i</c> of <c>c</c>
/// is set, so combination 0 is the base kernel and the binary order starts all-off.
/// Two series are registered: <see cref="Posted"/> (the patches as posted) and
/// <see cref="Landed"/> (what was merged upstream in their place, <c>--series upstream</c>);
/// every series boots the same base kernel.
/// </summary>
public sealed class Series
{
    /// <summary>More toggles than this would make the matrix (2^n kernels per scenario) impractical.</summary>
    public const int MaxPatches = 16;

    /// <param name="patches">The patches, in any order (sorted by <see cref="IPatch.Order"/>).</param>
    /// <param name="name">The series' name on the command line (<c>--series NAME</c>).</param>
    public Series(IEnumerable<IPatch> patches, string name = "test")
    {
        Name = PatchId.Validate(name);
        var list = patches.OrderBy(p => p.Order).ToList();
        if (list.Count > MaxPatches)
            throw new ArgumentException($"a series of {list.Count} patches has too many combinations to run (max {MaxPatches})");
        foreach (var dup in list.GroupBy(p => p.Id).Where(g => g.Count() > 1))
            throw new ArgumentException($"patch id '{dup.Key}' is used twice in the series");
        foreach (var dup in list.GroupBy(p => p.Order).Where(g => g.Count() > 1))
            throw new ArgumentException($"series position {dup.Key} is taken by {string.Join(" and ", dup.Select(p => p.Id))}");
        Patches = list;
    }

    /// <summary>The patches as posted, registered in <see cref="PostedSeries"/> (<c>--series posted</c>, the default).</summary>
    public static Series Posted { get; } = new(PostedSeries.Patches(), PostedSeries.Name);

    /// <summary>What landed upstream, registered in <see cref="LandedSeries"/> (<c>--series upstream</c>).</summary>
    public static Series Landed { get; } = new(LandedSeries.Patches(), LandedSeries.Name);

    /// <summary>The registered series, the default (posted) first.</summary>
    public static IReadOnlyList<Series> All { get; } = Registered(Posted, Landed);

    /// <summary>The registered series called <paramref name="name"/>; throws <see cref="ArgumentException"/> naming the series there are.</summary>
    public static Series Named(string name) =>
        All.FirstOrDefault(s => s.Name == name.Trim())
        ?? throw new ArgumentException($"no series '{name}' (there are: {string.Join(", ", All.Select(s => s.Name))})");

    /// <summary>The registered series other than this one that has patch <paramref name="id"/>, or null.</summary>
    public Series? ElsewhereHas(string id) => All.FirstOrDefault(s => !ReferenceEquals(s, this) && s.IndexOf(id) >= 0);

    /// <summary>The series' name: <c>posted</c>, <c>upstream</c>, or a test's own.</summary>
    public string Name { get; }

    // A patch id names one patch whichever series is chosen: `--patches pt-reclaim` under the
    // posted series can then say where pt-reclaim is instead of "no such patch".
    private static IReadOnlyList<Series> Registered(params Series[] all)
    {
        foreach (var dup in all.SelectMany(s => s.Ids.Select(id => (s.Name, id))).GroupBy(x => x.id).Where(g => g.Count() > 1))
            throw new ArgumentException($"patch id '{dup.Key}' is in two series ({string.Join(" and ", dup.Select(x => x.Name))})");
        return all;
    }

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
                throw new ArgumentException(ElsewhereHas(raw) is { } other
                    ? $"patch '{raw}' is in the {other.Name} series, not the {Name} one: add --series {other.Name}"
                    : Count == 0
                    ? $"no patch '{raw}': the series is empty (use 'none' or 'all')"
                    : $"no patch '{raw}' in the {Name} series{Spelling.DidYouMean(raw, Ids)}; it has: {string.Join(", ", Ids)}");
            mask |= 1 << i;
        }
        return Combination(mask);
    }

    /// <summary>
    /// The registered series whose patches include every id of <paramref name="spec"/> (a
    /// <c>--patches</c> list), or null for <c>none</c>, <c>all</c>, or ids of no single series:
    /// <c>kmm compare --base pte-refcount --head pt-reclaim</c> needs no series options.
    /// </summary>
    public static Series? Owning(string spec)
    {
        var ids = spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (ids.Length == 0 || ids.Any(id => id is "none" or "all"))
            return null;
        var owners = All.Where(s => ids.All(id => s.IndexOf(id) >= 0)).ToList();
        return owners.Count == 1 ? owners[0] : null;
    }

    public override string ToString() => Name;

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
