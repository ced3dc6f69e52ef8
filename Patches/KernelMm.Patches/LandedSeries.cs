namespace KernelMm.Patches;

/// <summary>
/// The registration of the upstream series (<c>--series upstream</c>; <c>Series.Landed</c> in code): the merged
/// descendants of the posted patches, each on the seam its posting hooks, in merge order.
/// Two postings have no descendant here: KAISER's nr_overhead (upstream PTI, 4.15, is a
/// redesign with no NR_KAISERTABLE) and the grouped pages (the execmem ROX cache, 6.13-6.15);
/// the README says why.
/// </summary>
public static class LandedSeries
{
    public const string Name = "upstream";

    public static IEnumerable<IPatch> Patches() =>
    [
        new KmemcgPageAlloc(),
        new PtReclaim(),
        new CollapseLargePages(),
    ];
}
