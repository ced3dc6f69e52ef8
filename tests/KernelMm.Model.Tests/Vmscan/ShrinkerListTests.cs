using KernelMm.Model.Memory;
using KernelMm.Model.Vmscan;

namespace KernelMm.Model.Tests.Vmscan;

/// <summary>do_shrink_slab's batches, as reclaim at priority 0 (drop_slab_node) drives a shrinker.</summary>
public class ShrinkerListTests
{
    /// <summary>A cache of <paramref name="objects"/> that frees what it is asked to scan and notes each batch.</summary>
    private static (Shrinker Shrinker, List<long> Batches, Func<long> Left) Cache(long objects)
    {
        var batches = new List<long>();
        var shrinker = new Shrinker(
            _ => objects > 0 ? objects : Shrinker.SHRINK_EMPTY,
            sc =>
            {
                batches.Add(sc.NrToScan);
                long n = Math.Min(sc.NrToScan, objects);
                objects -= n;
                return n;
            });
        return (shrinker, batches, () => objects);
    }

    [Test]
    public void ReclaimScansInBatchesOf128UpToTwiceTheCount()
    {
        var k = TestKernel.Boot();
        var (shrinker, batches, left) = Cache(1000);
        k.RegisterShrinker(shrinker);
        long freed = k.Reclaim();
        Assert.Multiple(() =>
        {
            // delta = (1000 >> 0) * 4 / DEFAULT_SEEKS = 2000: fifteen batches, 80 short of the target.
            Assert.That(batches, Is.EqualTo(Enumerable.Repeat(128L, 15)));
            Assert.That(freed, Is.EqualTo(1000));
            Assert.That(left(), Is.Zero);
            Assert.That(shrinker.NrDeferred, Is.EqualTo(80), "the rest of the target waits for the next call");
        });
    }

    [Test]
    public void ACacheSmallerThanABatchIsScannedWhole()
    {
        var k = TestKernel.Boot();
        var (shrinker, batches, _) = Cache(50);
        k.RegisterShrinker(shrinker);
        k.Reclaim();
        Assert.That(batches, Is.EqualTo(new long[] { 100 }), "total_scan (100) >= freeable (50): one batch of the whole target");
    }

    [Test]
    public void ShrinkStopEndsTheScanAndDefersTheTarget()
    {
        var k = TestKernel.Boot();
        int calls = 0;
        var shrinker = new Shrinker(_ => 1000, _ => { calls++; return Shrinker.SHRINK_STOP; });
        k.RegisterShrinker(shrinker);
        Assert.Multiple(() =>
        {
            Assert.That(k.Reclaim(), Is.Zero);
            Assert.That(calls, Is.EqualTo(1));
            Assert.That(shrinker.NrDeferred, Is.EqualTo(2000));
        });
    }

    [Test]
    public void AHigherPriorityScansLessAndOnlyHalfTheCacheUnlessTheDeltaIsLarge()
    {
        var list = new ShrinkerList();
        var (shrinker, batches, _) = Cache(4096);
        list.register_shrinker(shrinker);
        // DEF_PRIORITY 12: delta = (4096 >> 12) * 4 / 2 = 2, below freeable / 4: nothing reaches a batch.
        Assert.That(list.shrink_slab(GfpFlags.GFP_KERNEL, 0, priority: 12), Is.Zero);
        // Priority 4: delta = 256 * 4 / 2 = 512, plus the 2 deferred: four batches.
        list.shrink_slab(GfpFlags.GFP_KERNEL, 0, priority: 4);
        Assert.That(batches, Is.EqualTo(Enumerable.Repeat(128L, 4)));
    }
}
