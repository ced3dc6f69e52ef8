namespace KernelMm.Patches;

/// <summary>One toggle combination of a series: which of its patches are applied.</summary>
public sealed class Combination
{
    internal Combination(Series series, int mask)
    {
        if (mask < 0 || mask >= series.CombinationCount)
            throw new ArgumentOutOfRangeException(nameof(mask), $"combination {mask} of a {series.Count}-patch series");
        Series = series;
        Mask = mask;
    }

    public Series Series { get; }

    /// <summary>Bit i set: the patch at series position i is applied.</summary>
    public int Mask { get; }

    public IEnumerable<IPatch> Enabled => Series.Patches.Where((_, i) => (Mask & (1 << i)) != 0);

    /// <summary>
    /// Whether <paramref name="id"/> is applied: false for a patch of another registered series
    /// (a scenario runs under each series); throws for an id no series has (a typo would
    /// otherwise read as "off").
    /// </summary>
    public bool IsApplied(string id)
    {
        int i = Series.IndexOf(id);
        if (i < 0 && Series.ElsewhereHas(id) is not null)
            return false;
        if (i < 0)
            throw new ArgumentException(Series.Count == 0
                ? $"no patch '{id}': the series is empty"
                : $"no patch '{id}' in the {Series.Name} series ({string.Join(", ", Series.Ids)})", nameof(id));
        return (Mask & (1 << i)) != 0;
    }

    /// <summary><c>none</c>, or the applied ids in series order, comma-separated (what <c>--patches</c> takes back).</summary>
    public string Label => Mask == 0 ? "none" : string.Join(",", Enabled.Select(p => p.Id));

    public override string ToString() => Label;
}
