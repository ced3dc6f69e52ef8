using KernelMm.Model.Mm;

namespace KernelMm.Model.Tests.Mm;

/// <summary>write_ldt (arch/x86/kernel/ldt.c, 4.9): a new LDT on every write.</summary>
public class WriteLdtTests
{
    [Test]
    public void EveryWriteAllocatesANewLdtOfAtLeastTheOldSize()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("ldt");
        p.ModifyLdt(1024); // 8 KiB: vzalloc
        ulong first = k.Vmalloc.Areas.Single(v => v.Caller.StartsWith("alloc_ldt_struct")).Addr;
        p.ModifyLdt(1);    // entry 0: max(1, 1024) entries, a new area
        var areas = k.Vmalloc.Areas.Where(v => v.Caller.StartsWith("alloc_ldt_struct")).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(p.LdtEntries, Is.EqualTo(1024));
            Assert.That(areas, Has.Count.EqualTo(1), "the old LDT is freed");
            Assert.That(areas[0].Addr, Is.Not.EqualTo(first), "allocated before the old one was freed");
        });
    }
}
