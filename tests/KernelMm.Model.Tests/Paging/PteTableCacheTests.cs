using KernelMm.Model.Mm;
using KernelMm.Model.Paging;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Model.Tests.Paging;

/// <summary>The per-mm cache of the last PTE table: a hit says what a full walk says, and any change above the PTEs forgets it.</summary>
public class PteTableCacheTests
{
    [Test]
    public void AWalkThroughTheCacheGivesWhatAFullWalkGives()
    {
        var k = TestKernel.Boot();
        var area = k.Vmalloc.Vmalloc(4 * 4096);
        var cache = new PteTableCache();
        Assert.That(k.Walker.Walk(k.InitTopPgt, area.Addr, cache, out var first, out _), Is.True);
        Assert.That(cache.Covers(k.Tables, k.InitTopPgt, area.Addr + 4096), Is.True, "the walk left its PTE table in the cache");
        for (ulong va = area.Addr; va < area.Addr + 4 * 4096; va += 4096)
        {
            Assert.That(k.Walker.Walk(k.InitTopPgt, va, cache, out var hit, out var leaf), Is.True);
            Assert.That(hit, Is.EqualTo(k.Walker.Translate(k.InitTopPgt, va)));
            Assert.That(leaf.Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
        }
        Assert.That(first.BasePfn, Is.EqualTo(area.Pages[0]));
    }

    [Test]
    public void SettingAccessedOrFillingANoneEntryKeepsTheCache()
    {
        var k = TestKernel.Boot();
        var area = k.Vmalloc.Vmalloc(4096);
        var cache = new PteTableCache();
        k.Walker.Walk(k.InitTopPgt, area.Addr, cache, out _, out var leaf);
        k.Walker.Write(leaf, k.Walker.Read(leaf) | _PAGE_ACCESSED | _PAGE_DIRTY);
        k.Walker.Write(leaf with { Index = (leaf.Index + 100) % 512 }, 0);
        Assert.That(cache.Covers(k.Tables, k.InitTopPgt, area.Addr), Is.True);
    }

    [Test]
    public void RightsTakenAwayAboveThePtesAreSeenAtOnce()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("w");
        ulong a = p.Mmap(2 * 4096);
        p.Touch(a, 2 * 4096, Access.Write);
        Assert.That(p.Mm.PteCache.Covers(k.Tables, p.Mm.Pgd, a), Is.True, "the faults left the table in the mm's cache");
        var pmdSlot = PmdSlot(k, p.Mm.Pgd, a);
        k.Walker.Write(pmdSlot, k.Walker.Read(pmdSlot) & ~_PAGE_RW);
        Assert.That(p.Mm.PteCache.Covers(k.Tables, p.Mm.Pgd, a), Is.False);
        Assert.That(k.Walker.Walk(p.Mm.Pgd, a, p.Mm.PteCache, out var t, out _), Is.True);
        Assert.That(t.Flags & _PAGE_RW, Is.Zero, "RW is ANDed down the levels");
    }

    [Test]
    public void AFreedTableIsNeverReadThroughTheCache()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("w");
        ulong a = p.Mmap(2L << 20);
        p.Touch(a, 2L << 20, Access.Write);
        long table = p.Mm.PteCache.TablePfn;
        p.Munmap(a, 2L << 20);
        Assert.That(k.Tables.IsTable(table), Is.False, "munmap freed the PTE table");
        Assert.That(k.Walker.Walk(p.Mm.Pgd, a, p.Mm.PteCache, out _, out _), Is.False);
        ulong b = p.Mmap(2L << 20);
        p.Touch(b, 2L << 20, Access.Read);
        Assert.That(k.RunChecks(), Is.Empty);
    }

    private static EntryRef PmdSlot(Kernel k, long pgd, ulong va)
    {
        long pud = pte_pfn(k.Tables[pgd][(int)((va >> 39) & 511)]);
        long pmd = pte_pfn(k.Tables[pud][(int)((va >> 30) & 511)]);
        return new EntryRef(pmd, (int)((va >> 21) & 511), PageLevel.PG_LEVEL_2M);
    }
}
