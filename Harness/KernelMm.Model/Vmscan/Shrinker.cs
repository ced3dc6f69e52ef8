namespace KernelMm.Model.Vmscan;

/// <summary>
/// struct shrinker (include/linux/shrinker.h, 5.x): a cache's count_objects and
/// scan_objects, its seeks and batch, and the scan work deferred to the next call
/// (nr_deferred, one node here). The model's unsigned long results are longs, with the
/// kernel's two sentinels at the top of the range as negative values.
/// </summary>
public sealed class Shrinker(Func<ShrinkControl, long> countObjects, Func<ShrinkControl, long> scanObjects)
{
    /// <summary>SHRINK_STOP (~0UL): scan_objects cannot make progress in this context.</summary>
    public const long SHRINK_STOP = -1;

    /// <summary>SHRINK_EMPTY (~0UL - 1): count_objects has nothing at all.</summary>
    public const long SHRINK_EMPTY = -2;

    /// <summary>DEFAULT_SEEKS: what a cache's objects cost to recreate, in seeks.</summary>
    public const int DEFAULT_SEEKS = 2;

    /// <summary>SHRINK_BATCH (mm/vmscan.c): objects per scan_objects call unless the shrinker sets its own batch.</summary>
    public const long SHRINK_BATCH = 128;

    /// <summary>count_objects: how many objects could be freed; 0 or SHRINK_EMPTY when none.</summary>
    public Func<ShrinkControl, long> CountObjects { get; } = countObjects;

    /// <summary>scan_objects: scan sc.NrToScan objects, return how many were freed, or SHRINK_STOP.</summary>
    public Func<ShrinkControl, long> ScanObjects { get; } = scanObjects;

    /// <summary>seeks; 0 means "no IO to recreate": scanned at half the count whatever the priority.</summary>
    public int Seeks { get; init; } = DEFAULT_SEEKS;

    /// <summary>batch; 0 means SHRINK_BATCH.</summary>
    public long Batch { get; init; }

    /// <summary>nr_deferred: scan work left over from earlier calls, added to the next one.</summary>
    public long NrDeferred { get; internal set; }
}
