using KernelMm.Model;
using KernelMm.Model.Boot;
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
        k.Reclaim(); // empty the cache the boot-time vmalloc tables filled
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
    public void TheShrinkerLosesWhatItIsolates()
    {
        var patch = new GroupedPages();
        var k = PatchedKernel.Boot(Pks, patch);
        k.Spawn("app");
        int cached = patch.For(k).Cached;
        long free = k.VmStat[VmStatItem.NR_FREE_PAGES];
        k.Reclaim();
        Assert.Multiple(() =>
        {
            Assert.That(patch.For(k).Cached, Is.Zero);
            Assert.That(patch.For(k).LostToShrinker, Is.EqualTo(cached));
            Assert.That(k.VmStat[VmStatItem.NR_FREE_PAGES], Is.EqualTo(free), "nothing came back to the buddy allocator");
            Assert.That(k.Log.Warnings.Single().Message, Does.Contain("list_entry(head)"));
            Assert.That(k.Log.Warnings.Single().Kind, Is.EqualTo("grouped-pages"), "the snapshot's warning line starts with it");
            Assert.That(k.RunChecks().Count(w => w.Kind == "leak"), Is.GreaterThan(0));
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
