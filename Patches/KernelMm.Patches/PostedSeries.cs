namespace KernelMm.Patches;

/// <summary>
/// The registration of the posted series (<c>--series posted</c>, the default): one line per
/// patch file, each patch as it was posted to the list. Their order comes from each patch's
/// <see cref="IPatch.Order"/>, not from the position of the line. What landed upstream in
/// another form is <see cref="LandedSeries"/>.
/// </summary>
public static class PostedSeries
{
    public const string Name = "posted";

    public static IEnumerable<IPatch> Patches() =>
    [
        new KaiserNrOverhead(),
        new GroupedPages(),
        new KmemUnchargeFree(),
        new RestoreLargePages(),
        new PteRefcount(),
    ];
}
