using KernelMm.Model.Memory;

namespace KernelMm.Model.Vmscan;

/// <summary>
/// struct shrink_control (include/linux/shrinker.h): the reclaim context do_shrink_slab
/// hands to a shrinker. NrToScan is the batch it asks for; NrScanned starts equal to it and
/// a shrinker may change it to what it really scanned.
/// </summary>
public sealed class ShrinkControl(GfpFlags gfpMask, int nid = 0)
{
    public GfpFlags GfpMask { get; } = gfpMask;
    public int Nid { get; } = nid;
    public long NrToScan { get; set; }
    public long NrScanned { get; set; }
}
