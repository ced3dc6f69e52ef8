using KernelMm.Model;
using KernelMm.Model.Boot;
using KernelMm.Model.Memory;
using KernelMm.Model.Mm;
using KernelMm.Model.Paging;
using KernelMm.Model.Stats;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Patches.Tests;

public class GroupedPagesTests
{
    private const long MiB = 1L << 20;
    private static readonly BootOptions Pks = new(Pti: false, ProtectPageTables: true);

    private static ulong DirectMapEntry(Kernel k, long pfn) => k.Walker.Read(k.lookup_address(k.DirectMapAddress(pfn)));

    private static long FirstPteTable(Process p) => p.Mm.PteTablesInVmas().First().PtePfn;

    [Test]
    public void PksTablesCarryTheKeyWhileInUseAndLoseItWhenFreed()
    {
        var k = PatchedKernel.Boot(Pks);
        var p = k.Spawn("app");
        long table = FirstPteTable(p);
        Assert.Multiple(() =>
        {
            Assert.That(DirectMapEntry(k, table) & _PAGE_PKEY_MASK, Is.EqualTo(PageTablePages._PAGE_PKEY(1)));
            Assert.That(k.lookup_address(k.DirectMapAddress(table)).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K), "one page's key splits the direct map");
        });
        p.Exit();
        Assert.Multiple(() =>
        {
            Assert.That(DirectMapEntry(k, table) & _PAGE_PKEY_MASK, Is.Zero);
            Assert.That(k.RunChecks(), Is.Empty);
        });
    }

    [Test]
    public void PksTablesAreOffUnderPti()
    {
        var k = PatchedKernel.Boot(new BootOptions(Pti: true, ProtectPageTables: true), new GroupedPages());
        var p = k.Spawn("app");
        Assert.That(DirectMapEntry(k, FirstPteTable(p)) & _PAGE_PKEY_MASK, Is.Zero);
    }

    [Test]
    public void ARefillTakesAnOrder9BlockProtectedAsAWhole()
    {
        var patch = new GroupedPages();
        var k = PatchedKernel.Boot(Pks, patch);
        long splits2m = k.VmStat[VmEventItem.DIRECT_MAP_LEVEL2_SPLIT];
        var p = k.Spawn("app");
        long table = FirstPteTable(p);
        Assert.Multiple(() =>
        {
            Assert.That(patch.For(k).BlockRefills, Is.EqualTo(1));
            Assert.That(patch.For(k).Cached, Is.EqualTo(512 - 64 - 3), "the 64 vmalloc PUD tables preallocated at boot and the PUD, PMD and PTE tables came from the block (not the pgd)");
            Assert.That(k.lookup_address(k.DirectMapAddress(table)).Level, Is.EqualTo(PageLevel.PG_LEVEL_2M), "the block's 2M entry stays large");
            Assert.That(DirectMapEntry(k, table) & _PAGE_PKEY_MASK, Is.EqualTo(PageTablePages._PAGE_PKEY(1)));
            Assert.That(k.VmStat[VmEventItem.DIRECT_MAP_LEVEL2_SPLIT], Is.EqualTo(splits2m));
            Assert.That(k.RunChecks(), Is.Empty);
        });
    }

    [Test]
    public void FreedTablesGoBackToTheCacheMostRecentFirst()
    {
        var patch = new GroupedPages();
        var k = PatchedKernel.Boot(Pks, patch);
        var p = k.Spawn("app");
        ulong a = p.Mmap(8 * MiB, at: 0x100000000000);
        p.Touch(a, 8 * MiB, Access.Write);
        int cached = patch.For(k).Cached;
        long free = k.VmStat[VmStatItem.NR_FREE_PAGES];
        p.Munmap(a, 8 * MiB);
        Assert.Multiple(() =>
        {
            Assert.That(patch.For(k).Cached - cached, Is.EqualTo(4 + 1 + 1), "4 PTE tables, the PMD and the PUD table");
            Assert.That(k.VmStat[VmStatItem.NR_FREE_PAGES] - free, Is.EqualTo(2048), "only the anonymous pages went to the buddy allocator");
            Assert.That(k.RunChecks(), Is.Empty);
        });
        var q = k.Spawn("next");
        Assert.That(patch.For(k).BlockRefills, Is.EqualTo(1), "the cache serves the next process");
        q.Exit();
    }

    [Test]
    public void WithoutAnOrder9BlockARefillFallsBackToOnePage()
    {
        var patch = new GroupedPages();
        var k = PatchedKernel.Boot(Pks with { MemoryBytes = 256L << 20 }, patch);
        while (patch.For(k).Cached > 0) // empty the cache the boot-time vmalloc tables filled (its shrinker never does)
            patch.For(k).GetGroupedPage(GfpFlags.GFP_PGTABLE_KERNEL);
        Fragment(k);
        var p = k.Spawn("app");
        Assert.Multiple(() =>
        {
            Assert.That(patch.For(k).BlockRefills, Is.EqualTo(1), "only the boot-time refill");
            Assert.That(patch.For(k).FallbackRefills, Is.EqualTo(3));
            Assert.That(k.lookup_address(k.DirectMapAddress(FirstPteTable(p))).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
        });
    }

    /// <summary>Takes every free page, then gives back four of every eight: nothing above order 2 is left free.</summary>
    internal static void Fragment(Kernel k)
    {
        var pages = new List<long>();
        try
        {
            while (true)
                pages.Add(k.AllocPages(0));
        }
        catch (KernelErrnoException)
        {
        }
        foreach (var pfn in pages.Where(p => p % 8 < 4))
            k.FreePages(pfn, 0);
    }

    [Test]
    public void TheShrinkerStopsAtItsFirstBatchBecauseTheCacheGfpIsZero()
    {
        var patch = new GroupedPages();
        var k = PatchedKernel.Boot(Pks, patch);
        k.Spawn("app");
        int cached = patch.For(k).Cached;
        long free = k.VmStat[VmStatItem.NR_FREE_PAGES];
        long calls = k.Shrinkers.ScanCalls;
        Assert.Multiple(() =>
        {
            Assert.That(patch.For(k).Gfp, Is.EqualTo(GfpFlags.None), "init_grouped_page_cache never stores its gfp");
            Assert.That(k.Reclaim(), Is.Zero);
            Assert.That(k.Shrinkers.ScanCalls - calls, Is.EqualTo(1), "SHRINK_STOP: do_shrink_slab's loop ends at once");
            Assert.That(patch.For(k).Cached, Is.EqualTo(cached), "the cache keeps every page");
            Assert.That(patch.For(k).LostToShrinker, Is.Zero);
            Assert.That(k.VmStat[VmStatItem.NR_FREE_PAGES], Is.EqualTo(free));
            Assert.That(k.Log.Warnings, Is.Empty);
            Assert.That(k.RunChecks(), Is.Empty);
        });
    }

    /// <summary>
    /// Behind the gfp test (a cache given the gfp its caller meant): batches of 128 from the
    /// least recently freed page, each batch lost to the dispose loop. sc->nr_scanned counts
    /// each batch twice (do_shrink_slab's nr_to_scan plus the scan's isolated), so a pass at
    /// priority 0 over 300 pages (target 600) ends after two batches; drop_slab_node's next
    /// pass takes the other 44.
    /// </summary>
    [Test]
    public void WithTheGfpItsCallerMeantTheShrinkerLosesWhatItIsolatesBatchByBatch()
    {
        var k = PatchedKernel.Boot(new BootOptions());
        var cache = new GroupedPages.Instance(k, GfpFlags.GFP_KERNEL);
        var pages = Enumerable.Range(0, 300).Select(_ => k.AllocPages(0)).ToList();
        foreach (var pfn in pages)
            cache.FreeGroupedPage(pfn);
        k.RegisterShrinker(cache.Shrinker);
        long freed = k.Reclaim();
        Assert.Multiple(() =>
        {
            Assert.That(freed, Is.EqualTo(300), "scan returns what it isolated");
            Assert.That(k.Log.Warnings.Select(w => w.Message[..w.Message.IndexOf(';')]),
                Is.EqualTo(new[] { "grouped_shrink_scan isolated 128 pages", "grouped_shrink_scan isolated 128 pages", "grouped_shrink_scan isolated 44 pages" }));
            Assert.That(k.Log.Warnings[0].Message, Does.Contain("list_entry(head)"));
            Assert.That(k.Log.Warnings.Select(w => w.Kind).Distinct(), Is.EqualTo(new[] { "grouped-pages" }), "the snapshot's warning line starts with it");
            Assert.That(cache.Cached, Is.Zero);
            Assert.That(cache.LostToShrinker, Is.EqualTo(300));
        });
    }

    [Test]
    public void WithoutItsConsumerThePatchChangesNothing()
    {
        var patch = new GroupedPages();
        var k = PatchedKernel.Boot(new BootOptions(Pti: false), patch);
        k.Spawn("app");
        Assert.That(patch.For(k).BlockRefills + patch.For(k).FallbackRefills, Is.Zero);
    }
}
