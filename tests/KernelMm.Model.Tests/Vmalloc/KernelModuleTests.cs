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
}
