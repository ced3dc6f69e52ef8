using KernelMm.Model.Paging;
using KernelMm.Model.Stats;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Model.Tests.Vmalloc;

public class KernelModuleTests
{
    [Test]
    public void LoadingAModuleFracturesTheDirectMapAndUnloadingDoesNotRestoreIt()
    {
        var k = TestKernel.Boot(pti: false);
        long splits = k.VmStat[VmEventItem.DIRECT_MAP_LEVEL2_SPLIT] + k.VmStat[VmEventItem.DIRECT_MAP_LEVEL3_SPLIT];
        var m = k.Vmalloc.LoadModule(textBytes: 3 * 4096, dataBytes: 4096);
        ulong text = k.Walker.Read(k.lookup_address(m.TextAddr));
        ulong alias = k.Walker.Read(k.lookup_address(k.DirectMapAddress(m.Area.Pages[0])));
        Assert.Multiple(() =>
        {
            Assert.That(text & (_PAGE_RW | _PAGE_NX), Is.Zero, "module text is ro+x");
            Assert.That(alias & _PAGE_RW, Is.Zero, "its direct-map alias is read-only");
            Assert.That(alias & _PAGE_NX, Is.Not.Zero, "and stays NX");
            Assert.That(k.VmStat[VmEventItem.DIRECT_MAP_LEVEL2_SPLIT] + k.VmStat[VmEventItem.DIRECT_MAP_LEVEL3_SPLIT], Is.GreaterThan(splits));
        });

        long fourK = k.Meminfo["DirectMap4k"];
        m.Unload();
        var e = k.lookup_address(k.DirectMapAddress(m.Area.Pages[0]));
        ulong after = k.Walker.Read(e);
        Assert.Multiple(() =>
        {
            Assert.That(e.Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
            Assert.That(after & _PAGE_RW, Is.Not.Zero);
            Assert.That(after & _PAGE_GLOBAL, Is.Zero, "set_direct_map_default_noflush does not restore GLOBAL");
            Assert.That(k.Meminfo["DirectMap4k"], Is.EqualTo(fourK));
            Assert.That(k.Walker.Translate(k.InitTopPgt, m.TextAddr), Is.Null);
            Assert.Throws<KernelErrnoException>(m.Unload);
        });
    }

    /// <summary>
    /// vm_remove_mappings: the module area and its pages' direct-map aliases are flushed
    /// together, once; the range runs from the direct map to module space, far above
    /// tlb_single_page_flush_ceiling, so that one flush is flush_tlb_all (5.x mm/vmalloc.c,
    /// arch/x86/mm/tlb.c flush_tlb_kernel_range).
    /// </summary>
    [Test]
    public void UnloadingFlushesTheModuleAndItsAliasesOnceWithAFullFlush()
    {
        var k = TestKernel.Boot(pti: false);
        var m = k.Vmalloc.LoadModule(textBytes: 3 * 4096, dataBytes: 4096);
        for (int cpu = 0; cpu < k.Tlbs.Cpus.Count; cpu++)
        {
            Assert.That(k.Access(cpu, m.TextAddr), Is.True);
            Assert.That(k.Access(cpu, k.DirectMapAddress(m.Area.Pages[0])), Is.True);
        }
        long full = k.Tlbs.FullFlushes, single = k.Tlbs.PageFlushes;
        m.Unload();
        Assert.Multiple(() =>
        {
            Assert.That(k.Tlbs.FullFlushes - full, Is.EqualTo(1));
            Assert.That(k.Tlbs.PageFlushes - single, Is.Zero, "no range flush of the area or of the aliases on their own");
            Assert.That(k.Tlbs.Cpus.All(c => c.Lookup(m.TextAddr) is null && c.Lookup(k.DirectMapAddress(m.Area.Pages[0])) is null));
            Assert.That(k.Log.Warnings, Is.Empty, "the flush point found every TLB coherent");
        });
    }

    [Test]
    public void APlainVfreeFlushesNothingUntilThePurge()
    {
        var k = TestKernel.Boot(pti: false);
        var area = k.Vmalloc.Vmalloc(4 * 4096);
        long full = k.Tlbs.FullFlushes, single = k.Tlbs.PageFlushes;
        k.Vmalloc.Vfree(area.Addr);
        Assert.Multiple(() =>
        {
            Assert.That(k.Tlbs.FullFlushes - full, Is.Zero, "free_vmap_area_noflush: the range waits on the purge list");
            Assert.That(k.Tlbs.PageFlushes - single, Is.Zero);
        });
    }
}
