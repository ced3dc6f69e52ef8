using KernelMm.Model;
using KernelMm.Model.Memory;
using KernelMm.Model.Mm;

namespace KernelMm.Patches.Tests;

/// <summary>kmemcg-page-alloc (v4.7): a charged page is uncharged whichever path frees it, release_pages' uncharge_list included.</summary>
public class KmemcgPageAllocTests
{
    private const long MiB = 1L << 20;
    private const ulong At = 0x700000000000;

    private static (Kernel K, Memcg Cg, Process P) Boot(params IPatch[] patches)
    {
        var k = PatchedKernel.Boot(null, patches);
        var cg = k.Memcgs.Create("cg");
        return (k, cg, k.Spawn("t", cg));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void TablesFreedInMmuGatherBatchesAreUnchargedOnlyWithTheMergedSeries(bool merged)
    {
        var (k, cg, p) = merged ? Boot(new KmemcgPageAlloc()) : Boot();
        long live = cg.KmemUsage;
        ulong a = p.Mmap(64 * MiB, at: At);
        p.Touch(a, 64 * MiB, Access.Write);
        p.Munmap(a, 64 * MiB);
        Assert.That(cg.KmemUsage - live, merged ? Is.Zero : Is.GreaterThanOrEqualTo(32 * 4096), "32 PTE tables (and their PMD and PUD) went through uncharge_list");
        if (merged)
        {
            Assert.That(k.Log.Warnings, Is.Empty);
            Assert.That(k.RunChecks(), Is.Empty);
        }
    }

    [Test]
    public void ExitUnchargesEverythingTheTaskCharged()
    {
        var (k, cg, p) = Boot(new KmemcgPageAlloc());
        ulong a = p.Mmap(64 * MiB, at: At);
        p.Touch(a, 64 * MiB, Access.Write);
        p.Exit();
        Assert.Multiple(() =>
        {
            Assert.That(cg.KmemUsage, Is.Zero, "tables through uncharge_list, the stack through free_pages_prepare");
            Assert.That(cg.Usage, Is.Zero);
            Assert.That(cg.Stat["kernel_stack"], Is.Zero);
            Assert.That(k.Log.Warnings, Is.Empty);
            Assert.That(k.RunChecks(), Is.Empty);
        });
    }

    [Test]
    public void TablesPtReclaimFreesAreUnchargedToo()
    {
        var (k, cg, p) = Boot(new KmemcgPageAlloc(), new PtReclaim());
        ulong a = p.Mmap(8 * MiB, at: At);
        p.Touch(a, 8 * MiB, Access.Write);
        long before = cg.Stat["pagetables"];
        p.Madvise(a, 8 * MiB, Advice.DontNeed);
        Assert.That(before - cg.Stat["pagetables"], Is.EqualTo(4 * 4096));
        Assert.That(k.RunChecks(), Is.Empty);
    }

    [Test]
    public void OnlyAPageChargedToACgroupIsMarked()
    {
        var k = PatchedKernel.Boot(null, new KmemcgPageAlloc());
        var cg = k.Memcgs.Create("cg");
        long charged = k.Memcgs.AllocKmemPages(GfpFlags.GFP_KERNEL_ACCOUNT, 0, cg, PageOwnerKind.Kernel, 0);
        long root = k.Memcgs.AllocKmemPages(GfpFlags.GFP_KERNEL_ACCOUNT, 0, null, PageOwnerKind.Kernel, 0);
        Assert.Multiple(() =>
        {
            Assert.That(k.Frames.Peek(charged).MapCount, Is.EqualTo(MapcountValues.PAGE_KMEMCG_MAPCOUNT_VALUE));
            Assert.That(k.Frames.Peek(root).MapCount, Is.EqualTo(MapcountValues.Unmapped), "the root cgroup's page is not PageKmemcg (the Aug 2016 fix)");
        });
        k.Buddy.FreePages(charged, 0);
        k.Buddy.FreePages(root, 0);
        Assert.That(cg.KmemUsage, Is.Zero);
        Assert.That(k.Log.Warnings, Is.Empty, "free_pages_prepare cleared the mark before free_pages_check");
    }

    [Test]
    public void SetPageKmemcgRequiresMinusOne()
    {
        var k = PatchedKernel.Boot(null, new KmemcgPageAlloc());
        var cg = k.Memcgs.Create("cg");
        // A page that already carries another _mapcount type (a balloon page, say) cannot be marked.
        long pfn = k.Buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        k.Frames[pfn].MapCount = MapcountValues.PAGE_BALLOON_MAPCOUNT_VALUE;
        k.Memcgs.ChargeKmem(pfn, 0, cg);
        k.Memcgs.AfterKmemCharge!(pfn, 0);
        Assert.Multiple(() =>
        {
            Assert.That(k.Frames.Peek(pfn).MapCount, Is.EqualTo(MapcountValues.PAGE_BALLOON_MAPCOUNT_VALUE));
            Assert.That(k.Log.Warnings.Select(w => (w.Kind, w.Message)), Is.EqualTo(new[] { ("kmemcg", $"VM_BUG_ON_PAGE(atomic_read(&page->_mapcount) != -1): pfn:{pfn:x5} mapcount {MapcountValues.PAGE_BALLOON_MAPCOUNT_VALUE}") }));
        });
    }

    [Test]
    public void AnOrdinaryPageInTheSameBatchIsStillUnchargedAsAnonymous()
    {
        var (k, cg, p) = Boot(new KmemcgPageAlloc());
        long stack = cg.Stat["anon"];
        ulong a = p.Mmap(2 * MiB, at: At);
        p.Touch(a, 2 * MiB, Access.Write);
        Assert.That(cg.Stat["anon"] - stack, Is.EqualTo(2 * MiB));
        p.Munmap(a, 2 * MiB);
        Assert.That(cg.Stat["anon"], Is.EqualTo(stack), "the 512 pages left as anon pages, the table as kmem");
        Assert.That(k.RunChecks(), Is.Empty);
    }
}
