using KernelMm.Model.Mm;

namespace KernelMm.Model.Tests.Mm;

/// <summary>mmu_gather of the 2015 x86 kernel: tables go through tlb_remove_page into the batch of the pages, and the batch is freed in gather order.</summary>
public class MmuGatherTests
{
    private const ulong At = 0x200000000000; // alone in its pgd slot: munmap frees its PTE, PMD and PUD tables

    [Test]
    public void MunmapFreesThePagesThenTheTablesInTheOrderGathered()
    {
        var k = TestKernel.Boot(pti: false);
        var p = k.Spawn("gather");
        p.Mmap(2 * 4096, at: At);
        p.Touch(At, 2 * 4096, Access.Write);
        long Pfn(ulong va) => KernelMm.Model.Paging.PageBits.pte_pfn(k.Walker.Read(k.Walker.LookupAddress(p.Mm.Pgd, va)));
        long page0 = Pfn(At), page1 = Pfn(At + 4096);
        long pte = p.Mm.PteTablesInVmas().Single(t => t.Addr == At).PtePfn;
        var freed = new List<long>();
        k.Buddy.FreePagesPrepareHook = (pfn, order) => freed.Add(pfn);
        p.Munmap(At, 2 * 4096);
        Assert.Multiple(() =>
        {
            Assert.That(freed.Take(3), Is.EqualTo(new[] { page0, page1, pte }), "zap_pte_range gathered the pages, then free_pgtables the PTE table");
            Assert.That(freed, Has.Count.EqualTo(5), "then its PMD and PUD tables");
            Assert.That(k.RunChecks(), Is.Empty);
        });
    }
}
