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

    private static long? CachedPfn(Kernel k, Process p, ulong va) =>
        k.Tlbs.Cpus[p.Cpu].Lookup(va) is { } e ? e.Translation.PfnOf(va) : null;

    /// <summary>Pages only, no table freed: tlb_finish_mmu flushes the gathered range and nothing else.</summary>
    [Test]
    public void AZapThatFreesNoTableFlushesOnlyItsRange()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("range");
        p.Mmap(8 * 4096, at: At);
        p.Touch(At, 8 * 4096, Access.Write);
        p.Munmap(At + 2 * 4096, 2 * 4096);
        Assert.Multiple(() =>
        {
            Assert.That(CachedPfn(k, p, At + 2 * 4096), Is.Null);
            Assert.That(CachedPfn(k, p, At + 3 * 4096), Is.Null);
            Assert.That(CachedPfn(k, p, At + 4096), Is.Not.Null, "the page before the range stays cached");
            Assert.That(CachedPfn(k, p, At + 4 * 4096), Is.Not.Null, "and the one after it");
            Assert.That(k.Log.Warnings, Is.Empty);
        });
    }

    /// <summary>A freed table takes the paging-structure caches with it: the whole mm is flushed.</summary>
    [Test]
    public void AZapThatFreesATableFlushesTheWholeMm()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("tables");
        const ulong Other = At + (1UL << 39); // another pgd slot: tables of its own
        p.Mmap(4096, at: At);
        p.Mmap(4096, at: Other);
        p.Touch(At, 4096, Access.Write);
        p.Touch(Other, 4096, Access.Write);
        long pte = p.Mm.PteTableOf(Other);
        p.Munmap(Other, 4096);
        Assert.Multiple(() =>
        {
            Assert.That(p.Mm.PteTableOf(Other), Is.EqualTo(-1));
            Assert.That(k.Tables.IsTable(pte), Is.False, "the freed frame holds no table any more");
            Assert.That(CachedPfn(k, p, At), Is.Null, "flush_tlb_mm: the other mapping's entry went too");
            Assert.That(k.RunChecks(), Is.Empty);
        });
    }

    /// <summary>A zap of nothing mapped gathers nothing and flushes nothing.</summary>
    [Test]
    public void AZapOfNothingFlushesNothing()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("empty");
        p.Mmap(4096, at: At);
        p.Mmap(4096, at: At + 3 * 4096); // untouched, in the same PTE table
        p.Touch(At, 4096, Access.Write);
        p.Munmap(At + 3 * 4096, 4096);
        Assert.That(CachedPfn(k, p, At), Is.Not.Null);
    }

    /// <summary>Without the flush, the table is freed while a CPU still caches a translation walked through it: the check says so.</summary>
    [Test]
    public void FreeingATableBeforeTheFlushIsReported()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("noflush");
        p.Mmap(4096, at: At);
        p.Touch(At, 4096, Access.Write);
        long pte = p.Mm.PteTableOf(At);
        k.Faults |= Diagnostics.FaultInjection.SkipTlbFlush;
        p.Munmap(At, 4096);
        Assert.That(k.Log.Warnings.Select(w => w.Message), Has.Some.EqualTo(
            $"tlb_finish_mmu: table pfn:{pte:x5} is freed while CPU {p.Cpu} still caches 0x{At:x16} walked through it"));
    }

    /// <summary>A zap of thousands of pages fills several gather blocks; every page and table comes back to the allocator.</summary>
    [Test]
    public void ALargeZapFreesEveryPageItGathered()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("large");
        const long Pages = 3000;
        p.Mmap(Pages * 4096, at: At);
        long free = k.Buddy.NrFreePages;
        p.Touch(At, Pages * 4096, Access.Write);
        long used = free - k.Buddy.NrFreePages;
        var freed = new List<long>();
        k.Buddy.FreePagesPrepareHook = (pfn, order) => freed.Add(pfn);
        p.Munmap(At, Pages * 4096);
        Assert.Multiple(() =>
        {
            Assert.That(k.Buddy.NrFreePages, Is.EqualTo(free));
            Assert.That(freed, Has.Count.EqualTo(used), "the pages and their PTE, PMD and PUD tables");
            Assert.That(freed.Distinct().Count(), Is.EqualTo(freed.Count));
            Assert.That(k.RunChecks(), Is.Empty);
        });
    }

    /// <summary>Without the flush, tlb_finish_mmu's flush point sees the zapped page still cached.</summary>
    [Test]
    public void ASkippedFlushLeavesAStaleTranslationTheFlushPointReports()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("stale");
        p.Mmap(2 * 4096, at: At);
        p.Touch(At, 2 * 4096, Access.Write);
        k.Faults |= Diagnostics.FaultInjection.SkipTlbFlush;
        p.Munmap(At + 4096, 4096); // the PTE table stays: pages only
        Assert.That(k.Log.Warnings.Select(w => w.Message), Has.Some.StartsWith($"tlb_finish_mmu: CPU {p.Cpu} holds a stale translation of 0x{At + 4096:x16}"));
    }

    /// <summary>A gather of tables only (their pages went with MADV_DONTNEED) still flushes the mm: the tables' own range counts.</summary>
    [Test]
    public void AGatherOfTablesOnlyStillFlushesTheMm()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("tables-only");
        const ulong Other = At + (1UL << 39);
        p.Mmap(4096, at: At);
        p.Mmap(4096, at: Other);
        p.Touch(At, 4096, Access.Write);
        p.Touch(Other, 4096, Access.Write);
        p.Madvise(Other, 4096, Advice.DontNeed);
        Assert.That(CachedPfn(k, p, At), Is.Not.Null);
        p.Munmap(Other, 4096);
        Assert.That(CachedPfn(k, p, At), Is.Null, "the freed tables flushed the whole mm");
    }
}
