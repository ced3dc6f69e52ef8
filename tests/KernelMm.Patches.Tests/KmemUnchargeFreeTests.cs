using KernelMm.Model;
using KernelMm.Model.Memory;
using KernelMm.Model.Mm;

namespace KernelMm.Patches.Tests;

public class KmemUnchargeFreeTests
{
    private const long MiB = 1L << 20;

    [Test]
    public void AllocKmemPagesMarksOnlyFromMinusOne()
    {
        var k = PatchedKernel.Boot(null, new KmemUnchargeFree());
        var cg = k.Memcgs.Create("cg");
        long pfn = k.Memcgs.AllocKmemPages(GfpFlags.GFP_KERNEL_ACCOUNT, 0, cg, PageOwnerKind.Kernel, 0);
        Assert.That(k.Frames.Peek(pfn).MapCount, Is.EqualTo(MapcountValues.PAGE_KMEM_MAPCOUNT_VALUE));
        k.Buddy.FreePages(pfn, 0);
        Assert.Multiple(() =>
        {
            Assert.That(cg.KmemUsage, Is.Zero, "the generic free path uncharged it");
            Assert.That(k.Log.Warnings, Is.Empty, "and cleared the mark before free_pages_check");
        });
    }

    [Test]
    public void AllocKmemPagesMarksAPageNoCgroupWasChargedFor()
    {
        // 1/5 sets PageKmem after memcg_kmem_commit_charge for every page it returns: a task in
        // no cgroup (memcg NULL) gets marked pages too, and its tables and stack are kmem pages.
        var k = PatchedKernel.Boot(null, new KmemUnchargeFree());
        long pfn = k.Memcgs.AllocKmemPages(GfpFlags.GFP_KERNEL_ACCOUNT, 0, null, PageOwnerKind.Kernel, 0);
        var p = k.Spawn("rootcg");
        ulong a = p.Mmap(2 * MiB, at: 0x600000000000);
        p.Touch(a, 4096, Access.Write);
        long pte = p.Mm.PteTablesInVmas().Single(t => t.Addr == a).PtePfn;
        Assert.Multiple(() =>
        {
            Assert.That(k.Frames.Peek(pfn).MapCount, Is.EqualTo(MapcountValues.PAGE_KMEM_MAPCOUNT_VALUE));
            Assert.That(k.Frames.Peek(pte).MapCount, Is.EqualTo(MapcountValues.PAGE_KMEM_MAPCOUNT_VALUE), "a PTE table of an uncharged task");
            Assert.That(k.Frames.Peek(p.Mm.Pgd).MapCount, Is.EqualTo(MapcountValues.PAGE_KMEM_MAPCOUNT_VALUE), "its pgd");
        });
        k.Buddy.FreePages(pfn, 0);
        p.Exit();
        Assert.Multiple(() =>
        {
            Assert.That(k.Log.Warnings, Is.Empty, "free_pages_prepare clears every mark before free_pages_check");
            Assert.That(k.RunChecks(), Is.Empty);
        });
    }

    [Test]
    public void SetPageKmemRequiresMinusOne()
    {
        var k = PatchedKernel.Boot(null, new KmemUnchargeFree());
        var cg = k.Memcgs.Create("cg");
        // A page that already carries another _mapcount type (a balloon page, say) cannot be marked.
        long pfn = k.Buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        k.Frames[pfn].MapCount = MapcountValues.PAGE_BALLOON_MAPCOUNT_VALUE;
        k.Memcgs.ChargeKmem(pfn, 0, cg);
        k.Memcgs.AfterAllocKmemPages!(pfn, 0);
        Assert.Multiple(() =>
        {
            Assert.That(k.Frames.Peek(pfn).MapCount, Is.EqualTo(MapcountValues.PAGE_BALLOON_MAPCOUNT_VALUE));
            Assert.That(k.Log.Warnings.Single().Message, Does.StartWith("VM_BUG_ON_PAGE(atomic_read(&page->_mapcount) != -1)"));
            Assert.That(k.Log.Warnings.Single().Kind, Is.EqualTo("kmem"), "the snapshot's warning line starts with it");
        });
    }

    [Test]
    public void TheSpecialMapcountValuesAreDistinct()
    {
        Assert.That(new[] { MapcountValues.PAGE_BUDDY_MAPCOUNT_VALUE, MapcountValues.PAGE_BALLOON_MAPCOUNT_VALUE, MapcountValues.PAGE_KMEM_MAPCOUNT_VALUE, MapcountValues.Unmapped }, Is.Unique);
    }

    [Test]
    public void AMarkThatReachesTheCheckIsNonzeroMapcount()
    {
        // No path of the model frees a marked page around the hook; a page marked by hand
        // in a kernel without the patch shows what free_pages_check would say.
        var k = PatchedKernel.Boot();
        long pfn = k.Buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        k.Frames[pfn].MapCount = MapcountValues.PAGE_KMEM_MAPCOUNT_VALUE;
        k.Buddy.FreePages(pfn, 0);
        Assert.That(k.Log.Warnings.Select(w => w.Message), Has.One.EqualTo("page dumped because: nonzero mapcount"));
    }

    [TestCase(false)]
    [TestCase(true)]
    public void KernelStacksUnchargeEitherWay(bool patched)
    {
        var k = patched ? PatchedKernel.Boot(null, new KmemUnchargeFree()) : PatchedKernel.Boot();
        var cg = k.Memcgs.Create("cg");
        var t = k.Spawn("t", cg);
        Assert.Multiple(() =>
        {
            Assert.That(cg.Stat["kernel_stack"], Is.EqualTo(16384));
            Assert.That(KmemUnchargeFree.PageKmem(k, t.StackPfn), Is.EqualTo(patched), "with the patch the stack is PageKmem, so free_pages_prepare uncharges it (free_kmem_pages is gone)");
        });
        t.Exit();
        Assert.That(cg.Stat["kernel_stack"], Is.Zero);
        Assert.That(k.Log.Warnings, Is.Empty);
    }

    [TestCase(false)]
    [TestCase(true)]
    public void TablesFreedInBatchesStillLeakWithThePatchAlone(bool patched)
    {
        var k = patched ? PatchedKernel.Boot(null, new KmemUnchargeFree()) : PatchedKernel.Boot();
        var cg = k.Memcgs.Create("cg");
        var p = k.Spawn("t", cg);
        ulong a = p.Mmap(64 * MiB, at: 0x700000000000);
        p.Touch(a, 64 * MiB, Access.Write);
        long table = p.Mm.PteTablesInVmas().First(t => t.Addr == a).PtePfn;
        Assert.That(KmemUnchargeFree.PageKmem(k, table), Is.EqualTo(patched), "with the patch the table is PageKmem while it lives");
        p.Munmap(a, 64 * MiB);
        Assert.Multiple(() =>
        {
            Assert.That(k.Log.Warnings, Is.Empty, "free_pages_prepare cleared each freed table's mark before free_pages_check");
            Assert.That(cg.KmemUsage, Is.EqualTo((34 + 3) * 4096 + 8192 + 16384), "34 freed tables stay charged (uncharge_list clears mem_cgroup first; 1/5 does not touch it), plus the 3 live stack tables, the pgd and the stack");
            Assert.That(cg.Stat["pagetables"], Is.EqualTo(2 * 4096), "the destructors ran: only the stack's PMD and PTE tables are counted");
        });
    }

    [TestCase(false)]
    [TestCase(true)]
    public void TablesFreedThroughFreePtesUnchargeOnlyWithThePatch(bool patched)
    {
        var patches = patched ? new IPatch[] { new KmemUnchargeFree(), new PteRefcount() } : [new PteRefcount()];
        var k = PatchedKernel.Boot(null, patches);
        var cg = k.Memcgs.Create("cg");
        var p = k.Spawn("t", cg);
        ulong a = p.Mmap(64 * MiB, at: 0x700000000000);
        p.Touch(a, 64 * MiB, Access.Read);
        long before = cg.Stat["pagetables"], kmemBefore = cg.KmemUsage;
        k.Sysctl.Write(PteRefcount.Sysctl, p.Pid);
        Assert.That(before - cg.Stat["pagetables"], Is.EqualTo(32 * 4096), "the destructor runs before __free_page either way");
        if (patched)
        {
            Assert.That(kmemBefore - cg.KmemUsage, Is.EqualTo(32 * 4096));
            Assert.That(k.Log.Warnings, Is.Empty);
        }
        else
        {
            Assert.That(k.Log.Warnings.Count(w => w.Message.StartsWith("BUG: Bad page state in process", StringComparison.Ordinal)), Is.EqualTo(32));
            Assert.That(k.Log.Warnings.Select(w => w.Message), Has.Some.EqualTo("page dumped because: page still charged to cgroup"));
            Assert.That(kmemBefore - cg.KmemUsage, Is.Zero);
        }
    }
}
