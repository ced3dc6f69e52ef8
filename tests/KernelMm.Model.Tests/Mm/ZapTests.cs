using KernelMm.Model.Mm;
using KernelMm.Model.Stats;

namespace KernelMm.Model.Tests.Mm;

/// <summary>zap_pte_range: what a cleared entry gives back, and what the zero page does not.</summary>
public class ZapTests
{
    private const ulong At = 0x400000000000;

    /// <summary>
    /// The zero page is special: a zap clears its entry and flushes its translation, but it
    /// has no rmap, no RSS and is never freed.
    /// </summary>
    [Test]
    public void ZappingTheZeroPageFlushesItButFreesAndCountsNothing()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("zero");
        p.Mmap(4096, at: At);
        p.Mmap(4096, at: At + 4 * 4096); // its own VMA, in the same PTE table: the table stays
        p.Touch(At, 4096, Access.Write);
        p.Touch(At + 4 * 4096, 4096, Access.Read);
        Assert.That(k.Tlbs.Cpus[p.Cpu].Lookup(At + 4 * 4096)!.Value.Translation.BasePfn, Is.EqualTo(k.ZeroPfn));
        var zero = k.Frames.Peek(k.ZeroPfn);
        long rss = p.Status["RssAnon"], anon = k.VmStat[VmStatItem.NR_ANON_MAPPED], vmpte = p.Status["VmPTE"];
        var freed = new List<long>();
        k.Buddy.FreePagesPrepareHook = (pfn, order) => freed.Add(pfn);
        p.Munmap(At + 4 * 4096, 4096);
        Assert.Multiple(() =>
        {
            Assert.That(k.Tlbs.Cpus[p.Cpu].Lookup(At + 4 * 4096), Is.Null, "the zero page's translation is flushed");
            Assert.That(k.Tlbs.Cpus[p.Cpu].Lookup(At), Is.Not.Null, "a range flush, not the whole mm");
            Assert.That(freed, Is.Empty);
            Assert.That(k.Frames.Peek(k.ZeroPfn).RefCount, Is.EqualTo(zero.RefCount));
            Assert.That(k.Frames.Peek(k.ZeroPfn).MapCount, Is.EqualTo(zero.MapCount));
            Assert.That(p.Status["RssAnon"], Is.EqualTo(rss));
            Assert.That(k.VmStat[VmStatItem.NR_ANON_MAPPED], Is.EqualTo(anon));
            Assert.That(p.Status["VmPTE"], Is.EqualTo(vmpte));
            Assert.That(k.Log.Warnings, Is.Empty);
        });
    }

    /// <summary>Each zapped page leaves RSS and NR_ANON_MAPPED and is freed; the pages outside the range stay mapped.</summary>
    [Test]
    public void ADontneedZapGivesBackExactlyThePagesOfTheRange()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("dontneed");
        p.Mmap(16 * 4096, at: At);
        p.Touch(At, 16 * 4096, Access.Write);
        long rss = p.Status["RssAnon"], anon = k.VmStat[VmStatItem.NR_ANON_MAPPED], free = k.Buddy.NrFreePages;
        p.Madvise(At + 3 * 4096, 5 * 4096, Advice.DontNeed);
        Assert.Multiple(() =>
        {
            Assert.That(rss - p.Status["RssAnon"], Is.EqualTo(5 * 4));
            Assert.That(anon - k.VmStat[VmStatItem.NR_ANON_MAPPED], Is.EqualTo(5));
            Assert.That(k.Buddy.NrFreePages - free, Is.EqualTo(5));
            Assert.That(p.Mm.PteTableOf(At), Is.Not.EqualTo(-1), "MADV_DONTNEED frees no table");
            for (int i = 0; i < 16; i++)
            {
                var e = k.Walker.LookupAddress(p.Mm.Pgd, At + (ulong)i * 4096);
                bool zapped = i >= 3 && i < 8;
                Assert.That(k.Walker.Read(e) == 0, Is.EqualTo(zapped), $"page {i}");
            }
            Assert.That(k.RunChecks(), Is.Empty);
        });
    }
}
