using KernelMm.Model.Mm;

namespace KernelMm.Model.Tests.Vmalloc;

/// <summary>vfree's lazy purge (mm/vmalloc.c, 5.x): free_vmap_area_noflush, lazy_max_pages, __purge_vmap_area_lazy.</summary>
public class VmallocLazyPurgeTests
{
    private const ulong PAGE = 4096;

    [Test]
    public void AFreedRangeIsNotReusedUntilItIsPurged()
    {
        var k = TestKernel.Boot(pti: false);
        var a = k.Vmalloc.Vmalloc(2 * (long)PAGE);
        k.Vmalloc.Vfree(a.Addr);
        var b = k.Vmalloc.Vmalloc(2 * (long)PAGE);
        Assert.Multiple(() =>
        {
            Assert.That(b.Addr, Is.EqualTo(a.Addr + 3 * PAGE), "the lazily freed range and its guard page are still taken");
            Assert.That(k.Vmalloc.VmapLazyNr, Is.EqualTo(3));
            Assert.That(k.Walker.Translate(k.InitTopPgt, a.Addr), Is.Null, "the PTEs went at once (unmap_kernel_range_noflush)");
        });
    }

    [TestCase(1, 8192)]
    [TestCase(2, 16384)]
    [TestCase(4, 24576)]
    public void LazyMaxPagesIs32MiBTimesFlsOfTheCpus(int cpus, long pages)
    {
        var k = TestKernel.Boot(cpus: cpus, pti: false);
        Assert.That(k.Vmalloc.LazyMaxPages, Is.EqualTo(pages));
    }

    [Test]
    public void PastLazyMaxPagesThePurgeGivesTheRangesBack()
    {
        var k = TestKernel.Boot(pti: false);
        ulong first = 0, highest = 0;
        int purgedAt = -1;
        for (int i = 0; i < 1000 && purgedAt < 0; i++)
        {
            var area = k.Vmalloc.Vmalloc(16 * (long)PAGE);    // 17 pages with the guard
            first = i == 0 ? area.Addr : first;
            if (area.Addr < highest)
                purgedAt = i;
            highest = Math.Max(highest, area.Addr);
            k.Vmalloc.Vfree(area.Addr);
        }
        Assert.Multiple(() =>
        {
            Assert.That(purgedAt, Is.EqualTo(16384 / 17 + 1), "the free that takes vmap_lazy_nr past 16384 pages purges");
            Assert.That(highest - first, Is.EqualTo((ulong)(purgedAt - 1) * 17 * PAGE), "until then every area went above the last");
            Assert.That(k.Vmalloc.VmapLazyNr, Is.EqualTo(17), "only the area freed after the purge");
        });
    }

    [Test]
    public void ChangePageAttrPurgesThroughVmUnmapAliases()
    {
        var k = TestKernel.Boot(pti: false);
        var a = k.Vmalloc.Vmalloc(2 * (long)PAGE);
        k.Vmalloc.Vfree(a.Addr);
        long pfn = k.AllocPages();
        k.SetMemory.ReadOnly(k.DirectMapAddress(pfn), 1);
        Assert.Multiple(() =>
        {
            Assert.That(k.Vmalloc.VmapLazyNr, Is.Zero);
            Assert.That(k.Vmalloc.Vmalloc(2 * (long)PAGE).Addr, Is.EqualTo(a.Addr), "the range is free again");
        });
    }

    [Test]
    public void ATranslationOfALazilyFreedRangeStaysCachedUntilThePurge()
    {
        var k = TestKernel.Boot(pti: false);
        var a = k.Vmalloc.Vmalloc(2 * (long)PAGE);
        k.Access(0, a.Addr);
        k.Vmalloc.Vfree(a.Addr);
        Assert.Multiple(() =>
        {
            Assert.That(k.Tlbs.Cpus[0].Lookup(a.Addr), Is.Not.Null, "vfree does not flush");
            Assert.That(k.RunChecks(), Is.Empty, "a stale entry in a range on the purge list is the design, not a missing flush");
        });
        long pfn = k.AllocPages();
        k.SetMemory.ReadOnly(k.DirectMapAddress(pfn), 1);
        Assert.That(k.Tlbs.Cpus[0].Lookup(a.Addr), Is.Null, "the purge flushed it");
    }

    [Test]
    public void RewrittenLdtsClimbIntoFreshRegionsAndEachNeedsNewShadowTables()
    {
        var k = TestKernel.Boot(pti: true);
        var p = k.Spawn("wine");
        p.ModifyLdt(Ldt.LDT_ENTRIES);                           // 64 KiB: vzalloc, user-mapped
        long tables = k.Kaiser!.TablesInstalled;
        for (int i = 0; i < 100; i++)
            p.ModifyLdt(Ldt.LDT_ENTRIES);                       // write_ldt: a new LDT, the old one vfreed
        // 100 more areas of 68 KiB climb 6.6 MiB: into 3 or 4 new 2M regions, a shadow PTE table each.
        Assert.That(k.Kaiser.TablesInstalled - tables, Is.InRange(3, 4));
        Assert.That(k.RunChecks(), Is.Empty);
    }

    [Test]
    public void OnlyTheLazilyFreedRangesReadAsLazilyFreed()
    {
        // | a (freed) | guard | b (busy) | guard | c (freed) | guard |
        var k = TestKernel.Boot(pti: false);
        var a = k.Vmalloc.Vmalloc(2 * (long)PAGE);
        var b = k.Vmalloc.Vmalloc(2 * (long)PAGE);
        var c = k.Vmalloc.Vmalloc((long)PAGE);
        k.Vmalloc.Vfree(c.Addr);
        k.Vmalloc.Vfree(a.Addr);
        Assert.Multiple(() =>
        {
            Assert.That(k.Vmalloc.IsLazilyFreed(a.Addr), Is.True);
            Assert.That(k.Vmalloc.IsLazilyFreed(a.Addr + 2 * PAGE), Is.True, "the guard page goes with its area");
            Assert.That(k.Vmalloc.IsLazilyFreed(b.Addr), Is.False);
            Assert.That(k.Vmalloc.IsLazilyFreed(b.Addr + 2 * PAGE), Is.False, "b's guard page");
            Assert.That(k.Vmalloc.IsLazilyFreed(c.Addr), Is.True);
            Assert.That(k.Vmalloc.IsLazilyFreed(c.Addr + 2 * PAGE), Is.False, "past c's guard");
            Assert.That(k.Vmalloc.IsLazilyFreed(a.Addr - PAGE), Is.False, "below the first range");
        });
        k.Vmalloc.Vfree(b.Addr);
        Assert.That(k.Vmalloc.IsLazilyFreed(b.Addr), Is.True, "a range added later is seen");
        k.Vmalloc.VmUnmapAliases();
        Assert.That(k.Vmalloc.IsLazilyFreed(a.Addr), Is.False, "purged: nothing is lazily freed");
    }
}
