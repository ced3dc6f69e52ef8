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
            Assert.That(cg.Stat["pagetables"], Is.EqualTo(p.Status["VmPTE"] * 1024));
            Assert.That(cg.KmemUsage - kmem0, Is.EqualTo(32 * 4096), "32 PTE tables for 64 MiB (the PMD and PUD exist already)");
            Assert.That(cg.Stat["anon"], Is.EqualTo((64L << 20) + 4096));
            Assert.That(cg.Stat["kernel_stack"], Is.EqualTo(16384));
        });
    }

    [Test]
    public void TheBaseKernelLeaksTheChargeOfTablesFreedInBatches()
    {
        var k = TestKernel.Boot();
        var cg = k.Memcgs.Create("job");
        var p = k.Spawn("worker", cg);
        long tables0 = cg.Stat["pagetables"];
        ulong a = p.Mmap(64L << 20, at: 0x300000000000);
        p.Touch(a, 64L << 20, Access.Write);
        p.Munmap(a, 64L << 20);
        Assert.Multiple(() =>
        {
            Assert.That(p.Status["VmPTE"] * 1024, Is.EqualTo(tables0), "the tables are gone");
            Assert.That(cg.Stat["pagetables"] - tables0, Is.EqualTo(34 * 4096), "but their kmem charge stays (32 PTE + PMD + PUD)");
            Assert.That(cg.Stat["anon"], Is.EqualTo(4096), "anonymous pages uncharge normally");
        });
        p.Exit();
        Assert.Multiple(() =>
        {
            Assert.That(cg.Stat["kernel_stack"], Is.Zero, "free_kmem_pages uncharges the stack");
            Assert.That(cg.Stat["pagetables"], Is.EqualTo(37 * 4096), "all tables ever allocated stay charged");
            Assert.That(k.Log.Warnings, Is.Empty, "the pages were freed cleanly: page->mem_cgroup was cleared by uncharge_list");
        });
    }

    [Test]
    public void NamesAreUnique()
    {
        var k = TestKernel.Boot();
        k.Memcgs.Create("a");
        Assert.That(Assert.Throws<KernelErrnoException>(() => k.Memcgs.Create("a"))!.Errno, Is.EqualTo(Errno.EEXIST));
    }
}
