using KernelMm.Model.Paging;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Model.Tests.Paging;

public class PageWalkerTests
{
    [Test]
    public void LookupAddressReturnsTheLevelOfEachLeaf()
    {
        var k = TestKernel.Boot();
        // 1G leaf: the second gigabyte of the direct map; 2M leaf: the first gigabyte (split by mark_rodata_ro).
        var gb = k.lookup_address(KernelLayout.PAGE_OFFSET + TestKernel.GiB);
        var mb = k.lookup_address(KernelLayout.PAGE_OFFSET + 64 * TestKernel.MiB);
        var area = k.Vmalloc.Vmalloc(4096);
        var small = k.lookup_address(area.Addr);
        var none = k.lookup_address(0x1000);
        Assert.Multiple(() =>
        {
            Assert.That(gb.Level, Is.EqualTo(PageLevel.PG_LEVEL_1G));
            Assert.That(pud_pfn(k.Walker.Read(gb)), Is.EqualTo(0x40000));
            Assert.That(mb.Level, Is.EqualTo(PageLevel.PG_LEVEL_2M));
            Assert.That(pmd_pfn(k.Walker.Read(mb)), Is.EqualTo(64 * 256));
            Assert.That(small.Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
            Assert.That(pte_pfn(k.Walker.Read(small)), Is.EqualTo(area.Pages[0]));
            Assert.That(none.IsNull, Is.True, "an empty pgd entry gives NULL");
        });
    }

    [Test]
    public void TranslateGivesEffectivePermissionsAndTheFrame()
    {
        var k = TestKernel.Boot();
        ulong va = KernelLayout.PAGE_OFFSET + TestKernel.GiB + 0x5000;
        var t = k.Walker.Translate(k.InitTopPgt, va);
        Assert.That(t, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(t!.Value.Level, Is.EqualTo(PageLevel.PG_LEVEL_1G));
            Assert.That(t.Value.PfnOf(va), Is.EqualTo(0x40005));
            Assert.That(t.Value.Flags & _PAGE_NX, Is.Not.Zero);
            Assert.That(t.Value.Flags & _PAGE_USER, Is.Zero, "kernel table entries have no USER, so the leaf is not user-accessible");
            Assert.That(k.Walker.Translate(k.InitTopPgt, 0x400000), Is.Null);
        });
    }
}
