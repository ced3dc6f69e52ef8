using KernelMm.Model.Memory;

namespace KernelMm.Model.Vmscan;

/// <summary>
/// shrinker_list with register_shrinker, shrink_slab and do_shrink_slab as mm/vmscan.c has
/// them in 5.x (5.4-5.10, torvalds/linux and the android12-5.10 common tree): the global
/// list only (memcg-aware shrinking is not modelled), one node.
/// </summary>
public sealed class ShrinkerList
{
    private readonly List<Shrinker> _shrinkers = [];

    /// <summary>scan_objects calls made since boot, for tests and reports.</summary>
    public long ScanCalls { get; private set; }

    /// <summary>register_shrinker: list_add_tail, so shrinkers run in registration order.</summary>
    public void register_shrinker(Shrinker shrinker) => _shrinkers.Add(shrinker);

    /// <summary>shrink_slab for the root cgroup: every shrinker once; SHRINK_EMPTY counts as 0.</summary>
    public long shrink_slab(GfpFlags gfpMask, int nid, int priority)
    {
        long freed = 0;
        foreach (var shrinker in _shrinkers.ToList())
        {
            long ret = do_shrink_slab(new ShrinkControl(gfpMask, nid), shrinker, priority);
            if (ret == Shrinker.SHRINK_EMPTY)
                ret = 0;
            freed += ret;
        }
        return freed;
    }

    /// <summary>drop_slab_node: shrink_slab(GFP_KERNEL, nid, priority 0) again while a pass frees more than 10 objects.</summary>
    public long drop_slab_node(int nid)
    {
        long total = 0, freed;
        do
        {
            freed = shrink_slab(GfpFlags.GFP_KERNEL, nid, priority: 0);
            total += freed;
        }
        while (freed > 10);
        return total;
    }

    /// <summary>
    /// do_shrink_slab: the scan target from the count, the priority and the seeks, plus the
    /// deferred work; clamped (to half the count unless the delta is large, never over twice
    /// the count); then scan_objects in batches of batch_size (SHRINK_BATCH, 128) while at
    /// least a batch is left, or the whole target if it is not below the count; SHRINK_STOP
    /// ends the loop. What is not scanned is deferred to the next call.
    /// </summary>
    internal long do_shrink_slab(ShrinkControl shrinkctl, Shrinker shrinker, int priority)
    {
        long freed = 0;
        long batchSize = shrinker.Batch != 0 ? shrinker.Batch : Shrinker.SHRINK_BATCH;
        long scanned = 0, nextDeferred;

        long freeable = shrinker.CountObjects(shrinkctl);
        if (freeable == 0 || freeable == Shrinker.SHRINK_EMPTY)
            return freeable;

        // atomic_long_xchg(&shrinker->nr_deferred[nid], 0)
        long nr = shrinker.NrDeferred;
        shrinker.NrDeferred = 0;

        long totalScan = nr;
        long delta;
        if (shrinker.Seeks != 0)
        {
            delta = freeable >> priority;
            delta *= 4;
            delta /= shrinker.Seeks;
        }
        else
        {
            delta = freeable / 2;
        }

        totalScan += delta;
        if (totalScan < 0)
        {
            totalScan = freeable;
            nextDeferred = nr;
        }
        else
        {
            nextDeferred = totalScan;
        }

        // Only a large delta may scan the entire cache (GFP_NOFS windup).
        if (delta < freeable / 4)
            totalScan = Math.Min(totalScan, freeable / 2);
        // Never more than twice the freeable objects.
        if (totalScan > freeable * 2)
            totalScan = freeable * 2;

        while (totalScan >= batchSize || totalScan >= freeable)
        {
            long nrToScan = Math.Min(batchSize, totalScan);
            shrinkctl.NrToScan = nrToScan;
            shrinkctl.NrScanned = nrToScan;
            ScanCalls++;
            long ret = shrinker.ScanObjects(shrinkctl);
            if (ret == Shrinker.SHRINK_STOP)
                break;
            freed += ret;
            totalScan -= shrinkctl.NrScanned;
            scanned += shrinkctl.NrScanned;
        }

        nextDeferred = nextDeferred >= scanned ? nextDeferred - scanned : 0;
        if (nextDeferred > 0)
            shrinker.NrDeferred += nextDeferred;
        return freed;
    }
}
