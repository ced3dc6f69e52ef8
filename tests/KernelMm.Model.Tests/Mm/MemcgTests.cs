using KernelMm.Model.Memory;
using KernelMm.Model.Mm;

namespace KernelMm.Model.Tests.Mm;

public class MemcgTests
{
    [Test]
    public void FaultsChargeTablesToTheKmemCounter()
    {
        var k = TestKernel.Boot();
        var cg = k.Memcgs.Create("job");
        var p = k.Spawn("worker", cg);
        long kmem0 = cg.KmemUsage;
        ulong a = p.Mmap(64L << 20, at: 0x7fffc0000000); // 2M-aligned, in the stack's 1G region
        p.Touch(a, 64L << 20, Access.Write);
        Assert.Multiple(() =>
        {
            Assert.That(cg.Stat["pagetables"], Is.EqualTo(p.Status["VmPTE"] * 1024 - 4096), "every table but the PUD: __pud_alloc_one runs no constructor");
            Assert.That(cg.KmemUsage - kmem0, Is.EqualTo(32 * 4096), "32 PTE tables for 64 MiB (the PMD and PUD exist already)");
            Assert.That(cg.Stat["anon"], Is.EqualTo((64L << 20) + 4096));
            Assert.That(cg.Stat["kernel_stack"], Is.EqualTo(16384));
        });
    }

    [Test]
    public void TheBaseKernelLeaksTheKmemChargeOfTablesFreedInBatchesButNotTheirPagetablesStat()
    {
        var k = TestKernel.Boot();
        var cg = k.Memcgs.Create("job");
        var p = k.Spawn("worker", cg);
        long tables0 = cg.Stat["pagetables"], kmem0 = cg.KmemUsage;
        ulong a = p.Mmap(64L << 20, at: 0x300000000000);
        p.Touch(a, 64L << 20, Access.Write);
        p.Munmap(a, 64L << 20);
        Assert.Multiple(() =>
        {
            Assert.That(p.Status["VmPTE"] * 1024, Is.EqualTo(3 * 4096), "the tables are gone");
            Assert.That(cg.Stat["pagetables"], Is.EqualTo(tables0), "the destructors moved NR_PAGETABLE back");
            Assert.That(cg.KmemUsage - kmem0, Is.EqualTo(34 * 4096), "but their kmem charge stays (32 PTE + PMD + PUD)");
            Assert.That(cg.Stat["anon"], Is.EqualTo(4096), "anonymous pages uncharge normally");
        });
        p.Exit();
        Assert.Multiple(() =>
        {
            Assert.That(cg.Stat["kernel_stack"], Is.Zero, "free_kmem_pages uncharges the stack");
            Assert.That(cg.Stat["pagetables"], Is.Zero);
            Assert.That(cg.KmemUsage, Is.EqualTo(37 * 4096), "every table ever allocated stays charged; the pgd (free_kmem_pages) does not");
            Assert.That(cg.Usage, Is.Zero, "uncharge_list took the tables from the memory counter (as file pages), not from kmem");
            Assert.That(k.Log.Warnings, Is.Empty, "the pages were freed cleanly: page->mem_cgroup was cleared by uncharge_list");
        });
    }

    [Test]
    public void ThePgdIsChargedToKmem()
    {
        var k = TestKernel.Boot();
        var cg = k.Memcgs.Create("job");
        var p = k.Spawn("worker", cg);
        Assert.Multiple(() =>
        {
            // pgd (8 KiB under pti) + stack (16 KiB) + the stack page's PUD, PMD and PTE tables.
            Assert.That(cg.KmemUsage, Is.EqualTo(8192 + 16384 + 3 * 4096));
            Assert.That(cg.Usage, Is.EqualTo(cg.KmemUsage + 4096), "memory.usage_in_bytes includes kmem, and the stack page");
            Assert.That(cg.Stat["pagetables"], Is.EqualTo(2 * 4096), "PMD and PTE: neither the pgd nor the PUD runs a constructor");
        });
        p.Exit();
        Assert.That(cg.KmemUsage, Is.EqualTo(3 * 4096), "the pgd's charge comes back at pgd_free; the three tables leak through release_pages");
    }

    [Test]
    public void NamesAreUnique()
    {
        var k = TestKernel.Boot();
        k.Memcgs.Create("a");
        Assert.That(Assert.Throws<KernelErrnoException>(() => k.Memcgs.Create("a"))!.Errno, Is.EqualTo(Errno.EEXIST));
    }

    [TestCase("")]
    [TestCase(" ")]
    [TestCase("a/b")]
    public void ABadNameIsEinval(string name)
    {
        var k = TestKernel.Boot(memory: 256L << 20);
        Assert.That(Assert.Throws<KernelErrnoException>(() => k.Memcgs.Create(name))!.Errno, Is.EqualTo(Errno.EINVAL));
    }

    [Test]
    public void IdsRunFromOneTo255AndThenMkdirIsEnospc()
    {
        var k = TestKernel.Boot(memory: 256L << 20);
        var all = Enumerable.Range(1, 255).Select(i => k.Memcgs.Create($"cg{i}")).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(all.Select(m => m.Id), Is.EqualTo(Enumerable.Range(1, 255)));
            Assert.That(k.Memcgs.ById(255), Is.SameAs(all[^1]));
            Assert.That(k.Memcgs.ById(0), Is.Null, "0 is \"no memcg\" in struct page");
            Assert.That(k.Memcgs.ById(256), Is.Null);
            Assert.That(Assert.Throws<KernelErrnoException>(() => k.Memcgs.Create("one-more"))!.Errno, Is.EqualTo(Errno.ENOSPC));
        });
    }

    [Test]
    public void MemoryStatPrintsItsLinesInOrderInBytes()
    {
        var k = TestKernel.Boot(memory: 256L << 20);
        var cg = k.Memcgs.Create("job");
        var p = k.Spawn("worker", cg);
        p.Touch(p.Mmap(8192), 8192, Access.Write);
        // anon: the stack page and the two touched; pagetables: the stack's PMD and PTE tables and the mapping's own PTE table.
        Assert.That(cg.StatLines(), Is.EqualTo(new (string, long)[] { ("anon", 3 * 4096), ("kernel", cg.KmemUsage), ("kernel_stack", 16384), ("pagetables", 3 * 4096) }));
    }

    [Test]
    public void AKmemPageOfNoCgroupIsNotCharged()
    {
        var k = TestKernel.Boot(memory: 256L << 20);
        var cg = k.Memcgs.Create("job");
        long pfn = k.Memcgs.AllocKmemPages(GfpFlags.GFP_KERNEL_ACCOUNT, 0, null, PageOwnerKind.Kernel, 0);
        Assert.Multiple(() =>
        {
            Assert.That(k.Frames.Peek(pfn).MemcgId, Is.Zero);
            Assert.That(k.Memcgs.UnchargeKmem(pfn, 0), Is.False, "nothing to uncharge");
            Assert.That(cg.KmemUsage, Is.Zero);
        });
        k.Memcgs.FreeKmemPages(pfn, 0);
        Assert.That(k.Log.Warnings, Is.Empty);
    }

    [Test]
    public void WithoutFreeKmemPagesAChargedPageReachesTheFreeCheckStillCharged()
    {
        // What kmem-uncharge-free removes: free_kmem_pages' uncharge. Without the generic path's, the page is bad.
        var k = TestKernel.Boot(memory: 256L << 20);
        var cg = k.Memcgs.Create("job");
        long pfn = k.Memcgs.AllocKmemPages(GfpFlags.GFP_KERNEL_ACCOUNT, 1, cg, PageOwnerKind.Kernel, 0);
        Assert.That((cg.KmemUsage, cg.Usage), Is.EqualTo((8192L, 8192L)));
        k.Memcgs.FreeKmemPagesUncharges = false;
        k.Memcgs.FreeKmemPages(pfn, 1);
        Assert.Multiple(() =>
        {
            Assert.That(cg.KmemUsage, Is.EqualTo(8192));
            Assert.That(k.Log.Warnings.Select(w => w.Message), Has.One.Contains("page dumped because: page still charged to cgroup"));
        });
    }
}
