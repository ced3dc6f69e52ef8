using KernelMm.Model.Memory;
using KernelMm.Model.Mm;
using KernelMm.Model.Stats;

namespace KernelMm.Model.Tests.Mm;

/// <summary>madvise_free_pte_range and zap_pte_range's PG_dirty (mm/madvise.c, mm/memory.c, 5.x).</summary>
public class MadviseFreeTests
{
    [Test]
    public void ACleanPageSharedAfterForkIsStillLazyfreed()
    {
        var k = TestKernel.Boot();
        var parent = k.Spawn("parent");
        ulong a = parent.Mmap(16 * 4096, at: 0x40000000);
        parent.Touch(a, 16 * 4096, Access.Write);
        var child = parent.Fork("child");
        long before = k.VmStat[VmEventItem.PGLAZYFREE];
        parent.Madvise(a, 16 * 4096, Advice.Free);
        Assert.That(k.VmStat[VmEventItem.PGLAZYFREE] - before, Is.EqualTo(16),
            "the page_mapcount != 1 test only applies to a page in the swap cache or with PG_dirty");
        Assert.That(child.Alive, Is.True);
    }

    [Test]
    public void ZapLeavesNoPgDirtyOnAnAnonymousPage()
    {
        var k = TestKernel.Boot();
        var parent = k.Spawn("parent");
        ulong a = parent.Mmap(4096, at: 0x40000000);
        parent.Touch(a, 4096, Access.Write);
        var child = parent.Fork("child");
        child.Exit(); // the child's mapping had the dirty bit
        long pfn = KernelMm.Model.Paging.PageBits.pte_pfn(k.Walker.Read(k.Walker.LookupAddress(parent.Mm.Pgd, a)));
        Assert.That(k.Frames.Peek(pfn).Has(PageFlags.PG_dirty), Is.False);
        long before = k.VmStat[VmEventItem.PGLAZYFREE];
        parent.Madvise(a, 4096, Advice.Free);
        Assert.That(k.VmStat[VmEventItem.PGLAZYFREE] - before, Is.EqualTo(1));
    }
}
