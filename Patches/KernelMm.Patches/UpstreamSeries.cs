namespace KernelMm.Patches;

/// <summary>
/// The registration of the series: one line per patch file. The five patches of DESIGN.md
/// (kaiser-nr-overhead, grouped-pages, kmem-uncharge-free, restore-large-pages,
/// pte-refcount) are added here as each lands; their order comes from each patch's
/// <see cref="IPatch.Order"/>, not from the position of the line.
/// </summary>
public static class UpstreamSeries
{
    public static IEnumerable<IPatch> Patches() =>
    [
        new KaiserNrOverhead(),
        new GroupedPages(),
        new KmemUnchargeFree(),
        new RestoreLargePages(),
        new PteRefcount(),
    ];
}
