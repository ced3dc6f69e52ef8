using KernelMm.Model.Memory;
using KernelMm.Model.Mm;
using KernelMm.Model.Stats;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Model.Tests.Mm;

/// <summary>handle_mm_fault on anonymous memory: do_anonymous_page, do_wp_page's copy and reuse, what each counts and flushes.</summary>
public class FaultTests
{
    private const ulong At = 0x300000000000;

    private static ulong PteOf(Kernel k, Process p, ulong addr)
    {
        var e = k.Walker.LookupAddress(p.Mm.Pgd, addr);
        return e.IsNull ? 0 : k.Walker.Read(e);
    }

    [Test]
    public void AReadFaultMapsTheZeroPageAndCountsOneFault()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("reader");
        p.Mmap(4 * 4096, at: At);
        long faults = k.VmStat[VmEventItem.PGFAULT], minflt = p.MinFlt, rss = p.Status["RssAnon"], anon = k.VmStat[VmStatItem.NR_ANON_MAPPED];
        p.Touch(At + 4096, 4096, Access.Read);
        ulong pte = PteOf(k, p, At + 4096);
        Assert.Multiple(() =>
        {
            Assert.That(pte_pfn(pte), Is.EqualTo(k.ZeroPfn));
            Assert.That(pte & (_PAGE_PRESENT | _PAGE_USER | _PAGE_SPECIAL), Is.EqualTo(_PAGE_PRESENT | _PAGE_USER | _PAGE_SPECIAL));
            Assert.That(pte & (_PAGE_RW | _PAGE_DIRTY), Is.Zero, "read-only, so the first write faults");
            Assert.That(pte & _PAGE_NX, Is.Not.Zero, "no PROT_EXEC");
            Assert.That(PteOf(k, p, At), Is.Zero, "only the page touched");
            Assert.That(k.VmStat[VmEventItem.PGFAULT] - faults, Is.EqualTo(1));
            Assert.That(p.MinFlt - minflt, Is.EqualTo(1));
            Assert.That(p.Status["RssAnon"], Is.EqualTo(rss), "the zero page is not in RSS");
            Assert.That(k.VmStat[VmStatItem.NR_ANON_MAPPED], Is.EqualTo(anon));
        });
        p.Touch(At + 4096, 4096, Access.Read);
        Assert.That(k.VmStat[VmEventItem.PGFAULT] - faults, Is.EqualTo(1), "the second read hits the TLB");
    }

    [Test]
    public void AWriteFaultMapsANewAnonymousPageWritableAndDirty()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("writer");
        p.Mmap(4 * 4096, at: At);
        long rss = p.Status["RssAnon"], anon = k.VmStat[VmStatItem.NR_ANON_MAPPED], minflt = p.MinFlt;
        p.Touch(At, 4096, Access.Write);
        ulong pte = PteOf(k, p, At);
        long pfn = pte_pfn(pte);
        var page = k.Frames.Peek(pfn);
        Assert.Multiple(() =>
        {
            Assert.That(pfn, Is.Not.EqualTo(k.ZeroPfn));
            Assert.That(pte & (_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_DIRTY | _PAGE_ACCESSED), Is.EqualTo(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | _PAGE_DIRTY | _PAGE_ACCESSED));
            Assert.That(pte & _PAGE_SPECIAL, Is.Zero);
            Assert.That(page.MapCount, Is.Zero, "one mapping (_mapcount is mappings - 1)");
            Assert.That(page.Has(PageFlags.PG_anon) && page.Has(PageFlags.PG_swapbacked) && page.Has(PageFlags.PG_lru), Is.True);
            Assert.That(page.OwnerKind, Is.EqualTo(PageOwnerKind.UserAnon));
            Assert.That(p.Status["RssAnon"] - rss, Is.EqualTo(4));
            Assert.That(k.VmStat[VmStatItem.NR_ANON_MAPPED] - anon, Is.EqualTo(1));
            Assert.That(p.MinFlt - minflt, Is.EqualTo(1));
            Assert.That(k.Tlbs.Cpus[p.Cpu].Lookup(At)!.Value.Translation.BasePfn, Is.EqualTo(pfn), "the access cached the new page");
        });
    }

    /// <summary>A write to the zero page copies it (wp_page_copy): a new page, the zero page untouched, its translation flushed.</summary>
    [Test]
    public void AWriteToTheZeroPageCopiesItAndFlushesTheOldTranslation()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("cow-zero");
        p.Mmap(4096, at: At);
        p.Touch(At, 4096, Access.Read);
        Assert.That(k.Tlbs.Cpus[p.Cpu].Lookup(At)!.Value.Translation.BasePfn, Is.EqualTo(k.ZeroPfn));
        var zero = k.Frames.Peek(k.ZeroPfn);
        long rss = p.Status["RssAnon"], anon = k.VmStat[VmStatItem.NR_ANON_MAPPED], faults = k.VmStat[VmEventItem.PGFAULT];
        p.Touch(At, 4096, Access.Write);
        long pfn = pte_pfn(PteOf(k, p, At));
        Assert.Multiple(() =>
        {
            Assert.That(pfn, Is.Not.EqualTo(k.ZeroPfn));
            Assert.That(PteOf(k, p, At) & (_PAGE_RW | _PAGE_DIRTY | _PAGE_SPECIAL), Is.EqualTo(_PAGE_RW | _PAGE_DIRTY));
            Assert.That(k.Tlbs.Cpus[p.Cpu].Lookup(At)!.Value.Translation.BasePfn, Is.EqualTo(pfn), "no stale read-only zero-page entry");
            Assert.That(k.Frames.Peek(k.ZeroPfn).MapCount, Is.EqualTo(zero.MapCount), "the zero page has no rmap");
            Assert.That(k.Frames.Peek(k.ZeroPfn).RefCount, Is.EqualTo(zero.RefCount));
            Assert.That(p.Status["RssAnon"] - rss, Is.EqualTo(4), "one page more, none replaced");
            Assert.That(k.VmStat[VmStatItem.NR_ANON_MAPPED] - anon, Is.EqualTo(1));
            Assert.That(k.VmStat[VmEventItem.PGFAULT] - faults, Is.EqualTo(1));
            Assert.That(k.Log.Warnings, Is.Empty);
        });
    }

    /// <summary>After fork, the child's write copies: the old page keeps the parent's mapping, RSS stays, the child's TLB loses the read-only entry.</summary>
    [Test]
    public void AWriteToASharedPageCopiesItAndTheOldPageKeepsItsOtherMapping()
    {
        var k = TestKernel.Boot();
        var parent = k.Spawn("parent");
        parent.Mmap(4096, at: At);
        parent.Touch(At, 4096, Access.Write);
        long old = pte_pfn(PteOf(k, parent, At));
        var child = parent.Fork("child");
        child.Touch(At, 4096, Access.Read);
        Assert.That(k.Tlbs.Cpus[child.Cpu].Lookup(At)!.Value.Translation.BasePfn, Is.EqualTo(old));
        long rss = child.Status["RssAnon"], anon = k.VmStat[VmStatItem.NR_ANON_MAPPED];
        child.Touch(At, 4096, Access.Write);
        long copy = pte_pfn(PteOf(k, child, At));
        Assert.Multiple(() =>
        {
            Assert.That(copy, Is.Not.EqualTo(old));
            Assert.That(child.Status["RssAnon"], Is.EqualTo(rss), "the copy replaces the shared page in the child's RSS");
            Assert.That(k.VmStat[VmStatItem.NR_ANON_MAPPED] - anon, Is.EqualTo(1), "the old page is still mapped by the parent");
            Assert.That(k.Frames.Peek(old).MapCount, Is.Zero, "one mapping left");
            Assert.That(k.Frames.Peek(old).RefCount, Is.EqualTo(1));
            Assert.That(k.Frames.Peek(copy).MapCount, Is.Zero);
            Assert.That(pte_pfn(PteOf(k, parent, At)), Is.EqualTo(old));
            Assert.That(PteOf(k, parent, At) & _PAGE_RW, Is.Zero, "the parent stays write-protected until it writes");
            Assert.That(k.Tlbs.Cpus[child.Cpu].Lookup(At)!.Value.Translation.BasePfn, Is.EqualTo(copy));
            Assert.That(k.RunChecks(), Is.Empty);
        });
        // The parent is the last mapper now: its write reuses the page in place (wp_page_reuse).
        long parentRss = parent.Status["RssAnon"];
        anon = k.VmStat[VmStatItem.NR_ANON_MAPPED];
        parent.Touch(At, 4096, Access.Write);
        Assert.Multiple(() =>
        {
            Assert.That(pte_pfn(PteOf(k, parent, At)), Is.EqualTo(old));
            Assert.That(PteOf(k, parent, At) & (_PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED), Is.EqualTo(_PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED));
            Assert.That(parent.Status["RssAnon"], Is.EqualTo(parentRss));
            Assert.That(k.VmStat[VmStatItem.NR_ANON_MAPPED], Is.EqualTo(anon));
            Assert.That(k.RunChecks(), Is.Empty);
        });
    }

    /// <summary>The last two mappers of a page both exit: the second unmap takes it out of NR_ANON_MAPPED and frees it.</summary>
    [Test]
    public void TheLastUnmapOfASharedPageTakesItOutOfNrAnonMapped()
    {
        var k = TestKernel.Boot();
        var parent = k.Spawn("parent");
        parent.Mmap(4096, at: At);
        parent.Touch(At, 4096, Access.Write);
        long pfn = pte_pfn(PteOf(k, parent, At));
        var child = parent.Fork("child");
        long anon = k.VmStat[VmStatItem.NR_ANON_MAPPED];
        child.Exit();
        Assert.That(k.VmStat[VmStatItem.NR_ANON_MAPPED], Is.EqualTo(anon), "the parent still maps it");
        Assert.That(k.Frames.Peek(pfn).MapCount, Is.EqualTo(0));
        parent.Munmap(At, 4096);
        Assert.Multiple(() =>
        {
            Assert.That(k.VmStat[VmStatItem.NR_ANON_MAPPED], Is.EqualTo(anon - 1));
            Assert.That(k.Frames.Peek(pfn).RefCount, Is.Zero, "freed");
        });
    }

    /// <summary>A fault that finds no memory: the OOM killer runs, and a task killed on the way counts no min_flt for it.</summary>
    [Test]
    public void AFaultThatRunsOutOfMemoryCountsNoMinorFault()
    {
        var k = TestKernel.Boot(memory: 64L << 20);
        k.Sysctl.Write("vm.overcommit_memory", 1); // OVERCOMMIT_ALWAYS: the mmap is allowed, the faults find no memory
        var p = k.Spawn("hog");
        ulong a = p.Mmap(48L << 20);
        long faults = k.VmStat[VmEventItem.PGFAULT], minflt = p.MinFlt;
        p.Touch(a, 48L << 20, Access.Write);
        Assert.Multiple(() =>
        {
            Assert.That(p.Alive, Is.False, "the OOM killer took it");
            Assert.That(k.VmStat[VmEventItem.PGFAULT] - faults, Is.EqualTo(p.MinFlt - minflt + 1), "the failed fault is a PGFAULT, not a min_flt");
        });
    }

    /// <summary>The UserPteChanged seam sees every PTE write of the fault path, in order: ptep_clear_flush's clear before the copy is installed.</summary>
    [Test]
    public void TheSeamSeesEachPteWriteOfAFaultInOrder()
    {
        var seen = new List<(long Table, ulong Old, ulong New)>();
        var k = new Kernel(new Model.Boot.BootOptions(), k => k.PageTableHooks.UserPteChanged = (_, table, old, value) => seen.Add((table, old, value)));
        var p = k.Spawn("seam");
        p.Mmap(4096, at: At);
        seen.Clear();
        p.Touch(At, 4096, Access.Read);
        long table = p.Mm.PteTableOf(At);
        ulong zero = PteOf(k, p, At);
        p.Touch(At, 4096, Access.Write);
        ulong copy = PteOf(k, p, At);
        p.Munmap(At, 4096);
        Assert.That(seen, Is.EqualTo(new[]
        {
            (table, 0UL, zero),
            (table, zero, 0UL),
            (table, 0UL, copy),
            (table, copy, 0UL),
        }), "do_anonymous_page, wp_page_copy's clear and set, zap_pte_range");
    }

    /// <summary>
    /// wp_page_copy's ptep_clear_flush: when the copy is installed no CPU holds the old
    /// read-only translation, and the flush took that page only (the neighbour stays cached).
    /// </summary>
    [Test]
    public void TheCopyIsInstalledAfterTheOldTranslationIsFlushedAndOnlyIt()
    {
        var installs = new List<(bool OldCached, bool NeighbourCached)>();
        Process? p = null;
        Kernel? kernel = null;
        var k = new Kernel(new Model.Boot.BootOptions(), k => k.PageTableHooks.UserPteChanged = (_, _, old, value) =>
        {
            if (p is not null && old == 0 && value != 0 && (value & _PAGE_RW) != 0)
                installs.Add((kernel!.Tlbs.Cpus[p.Cpu].Lookup(At) is not null, kernel.Tlbs.Cpus[p.Cpu].Lookup(At + 4096) is not null));
        });
        kernel = k;
        p = k.Spawn("cow");
        p.Mmap(2 * 4096, at: At);
        p.Touch(At, 2 * 4096, Access.Read); // both on the zero page, both cached
        p.Touch(At, 4096, Access.Write);
        Assert.That(installs, Is.EqualTo(new[] { (false, true) }));
    }

    /// <summary>A write to the zero page prepares the VMA's anon_vma (the read fault did not), so fork copies the new page.</summary>
    [Test]
    public void ACopyOfTheZeroPageGivesTheVmaItsAnonVmaSoForkCopiesIt()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("zero-then-fork");
        p.Mmap(4096, at: At);
        p.Touch(At, 4096, Access.Read);
        p.Touch(At, 4096, Access.Write);
        long pfn = pte_pfn(PteOf(k, p, At));
        var child = p.Fork("child");
        Assert.Multiple(() =>
        {
            Assert.That(pte_pfn(PteOf(k, child, At)), Is.EqualTo(pfn), "copy_page_range copied the VMA");
            Assert.That(k.Frames.Peek(pfn).MapCount, Is.EqualTo(1), "two mappings");
        });
    }
}
