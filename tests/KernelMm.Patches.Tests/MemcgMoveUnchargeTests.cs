using KernelMm.Model;
using KernelMm.Model.Mm;

namespace KernelMm.Patches.Tests;

/// <summary>
/// The patches' uncharge paths after a task moved cgroups (a cgroup.procs write): each frees
/// a table charged before the move from the cgroup it was charged to (page-&gt;mem_cgroup),
/// never from the task's new one.
/// </summary>
public class MemcgMoveUnchargeTests
{
    private const long MiB = 1L << 20;
    private const ulong At = 0x300000000000;

    private static (Kernel K, Memcg Old, Memcg New, Process P) MovedAfterFaulting(Access access, params IPatch[] patches)
    {
        var k = PatchedKernel.Boot(null, patches);
        var old = k.Memcgs.Create("old");
        var @new = k.Memcgs.Create("new");
        var p = k.Spawn("qemu", old);
        ulong a = p.Mmap(8 * MiB, at: At);
        p.Touch(a, 8 * MiB, access);
        k.Memcgs.Attach(p, @new);
        return (k, old, @new, p);
    }

    [TestCase(false)]
    [TestCase(true)]
    public void FreePtesUnchargesTheOldCgroupWithKmemUnchargeFree(bool uncharge)
    {
        IPatch[] patches = uncharge ? [new KmemUnchargeFree(), new PteRefcount()] : [new PteRefcount()];
        var (k, old, @new, p) = MovedAfterFaulting(Access.Read, patches);
        long oldKmem = old.KmemUsage;
        Assert.That(k.Sysctl.Write(PteRefcount.Sysctl, p.Pid), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(@new.KmemUsage, Is.Zero, "nothing was ever charged to the new cgroup");
            if (uncharge)
            {
                Assert.That(old.KmemUsage, Is.EqualTo(oldKmem - 4 * 4096), "free_pages_prepare uncharged the 4 zero-page PTE tables from page->mem_cgroup");
                Assert.That(k.Log.Warnings, Is.Empty);
            }
            else
            {
                Assert.That(old.KmemUsage, Is.EqualTo(oldKmem), "nothing uncharges __free_page's tables");
                Assert.That(k.Log.Warnings.Where(w => w.Message == "page->mem_cgroup:old").Count(), Is.EqualTo(4), "free_pages_check names the old cgroup");
            }
        });
    }

    [Test]
    public void UnchargeListUnchargesTheOldCgroupWithKmemcgPageAlloc()
    {
        var (k, old, @new, p) = MovedAfterFaulting(Access.Write, new KmemcgPageAlloc());
        long oldKmem = old.KmemUsage, oldUsage = old.Usage;
        p.Munmap(At, 8 * MiB);
        Assert.Multiple(() =>
        {
            Assert.That(old.KmemUsage, Is.EqualTo(oldKmem - 6 * 4096), "4 PTE tables, the PMD and the PUD, uncharged from old by uncharge_list's nr_kmem");
            Assert.That(old.Usage, Is.EqualTo(oldUsage - 8 * MiB - 6 * 4096));
            Assert.That(@new.Usage, Is.Zero);
            Assert.That(k.RunChecks(), Is.Empty);
        });
        p.Exit();
        Assert.Multiple(() =>
        {
            Assert.That(old.KmemUsage, Is.Zero, "the merged series leaves nothing charged: the old cgroup could be freed after rmdir");
            Assert.That(@new.KmemUsage, Is.Zero);
            Assert.That(k.RunChecks(), Is.Empty);
        });
    }
}
