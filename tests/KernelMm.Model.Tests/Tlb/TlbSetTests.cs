using KernelMm.Model.Paging;
using KernelMm.Model.Tlb;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Model.Tests.Tlb;

/// <summary>The flush primitives of every CPU and the checks a flush point runs.</summary>
public class TlbSetTests
{
    private static readonly ulong Va = KernelLayout.PAGE_OFFSET + TestKernel.GiB + 0x3000;

    /// <summary>The walk's translation of <paramref name="va"/> as a 4K entry: what a CPU caches after a split.</summary>
    private static Translation FourK(Kernel k, ulong va)
    {
        var t = k.Walker.Translate(k.InitTopPgt, va)!.Value;
        return new Translation(va & PageShifts.PAGE_MASK, PageLevel.PG_LEVEL_4K, t.PfnOf(va), t.Flags, t.TablePfn);
    }

    private static int Check(Kernel k, FlushScope scope) =>
        k.Tlbs.CheckCoherence(k.Walker, c => k.InitTopPgt, k.Log, "test", scope);

    [Test]
    public void AKernelRangeUpToTheCeilingIsFlushedPageByPageOnEveryCpu()
    {
        var k = TestKernel.Boot(cpus: 3);
        for (int cpu = 0; cpu < 3; cpu++)
        {
            k.Tlbs.Cpus[cpu].Fill(FourK(k, Va));
            k.Tlbs.Cpus[cpu].Fill(FourK(k, Va + 33 * 4096));
        }
        long full = k.Tlbs.FullFlushes, pages = k.Tlbs.PageFlushes;
        k.Tlbs.flush_tlb_kernel_range(Va, Va + 33 * 4096);
        Assert.Multiple(() =>
        {
            Assert.That(k.Tlbs.PageFlushes - pages, Is.EqualTo(33));
            Assert.That(k.Tlbs.FullFlushes, Is.EqualTo(full));
            Assert.That(k.Tlbs.Cpus.Select(c => c.Lookup(Va)), Is.All.Null, "the first page is gone everywhere");
            Assert.That(k.Tlbs.Cpus.Select(c => c.Count), Is.All.EqualTo(1), "the page just past the range stays");
        });
        k.Tlbs.flush_tlb_kernel_range(Va, Va + 34 * 4096);
        Assert.Multiple(() =>
        {
            Assert.That(k.Tlbs.FullFlushes, Is.EqualTo(full + 1), "above tlb_single_page_flush_ceiling: flush_tlb_all");
            Assert.That(k.Tlbs.PageFlushes - pages, Is.EqualTo(33));
            Assert.That(k.Tlbs.Cpus.Select(c => c.Count), Is.All.Zero);
        });
    }

    [Test]
    public void FlushTlbAllEmptiesEveryCpuGlobalEntriesToo()
    {
        var k = TestKernel.Boot(pti: false);
        k.Access(0, Va);
        k.Access(1, Va);
        Assert.That(k.Tlbs.Cpus[0].Entries.Single().Global, Is.True, "the direct map is global without KAISER");
        long full = k.Tlbs.FullFlushes;
        k.Tlbs.flush_tlb_all();
        Assert.Multiple(() =>
        {
            Assert.That(k.Tlbs.FullFlushes, Is.EqualTo(full + 1));
            Assert.That(k.Tlbs.Cpus.Select(c => c.Count), Is.All.Zero);
        });
    }

    [Test]
    public void AStaleEntryIsReportedWithWhatWasCachedAndWhatTheTablesSay()
    {
        var k = TestKernel.Boot();
        var good = FourK(k, Va);
        k.Tlbs.Cpus[1].Fill(good with { BasePfn = 0x12345 });
        Assert.That(Check(k, FlushScope.Everything), Is.EqualTo(1));
        Assert.That(k.Log.Warnings.Single().Message, Is.EqualTo(
            $"test: CPU 1 holds a stale translation of 0xffff888040003000: cached 4K pfn:12345 flags:{good.Flags:x}, tables say 1G pfn:40003 flags:{good.Flags:x}"));
    }

    [Test]
    public void AnEntryTheTablesNoLongerMapIsStaleAsNotPresent()
    {
        var k = TestKernel.Boot(pti: false);
        k.SetMemory.FourK(Va, 1);
        k.Access(0, Va);
        var e = k.lookup_address(Va);
        k.Walker.Write(e, 0); // cleared behind the CPU's back
        Assert.That(Check(k, FlushScope.Everything), Is.EqualTo(1));
        Assert.That(k.Log.Warnings.Single().Message, Does.EndWith(", tables say not present"));
    }

    [Test]
    public void EachFlushPointChecksOnlyWhatItMadeCoherent()
    {
        var k = TestKernel.Boot();
        var cpu0 = k.Tlbs.Cpus[0];
        cpu0.Fill(FourK(k, Va) with { BasePfn = 0x12345 }); // a stale kernel entry
        cpu0.Fill(new Translation(0x1000, PageLevel.PG_LEVEL_4K, 0x555, _PAGE_PRESENT | _PAGE_USER)); // and a user one
        cpu0.CurrentPgd = 0x777;
        Assert.Multiple(() =>
        {
            Assert.That(Check(k, FlushScope.Mm(0x777)), Is.EqualTo(1), "a flush of an mm checks its user half");
            Assert.That(k.Log.Warnings[^1].Message, Does.Contain("0x0000000000001000"));
            Assert.That(Check(k, FlushScope.Mm(0x778)), Is.Zero, "a CPU running another mm is not checked at all");
            Assert.That(Check(k, FlushScope.KernelHalf), Is.EqualTo(1));
            Assert.That(k.Log.Warnings[^1].Message, Does.Contain("0xffff888040003000"));
            Assert.That(Check(k, FlushScope.Everything), Is.EqualTo(2));
            Assert.That(k.Tlbs.CheckCoherence(k.Walker, k.InitTopPgt, k.Log, "all"), Is.EqualTo(2));
        });
        Assert.That(FlushScope.Mm(5).Covers(0x1000), Is.True);
        Assert.That(FlushScope.Mm(5).Covers(Va), Is.False);
        Assert.That(FlushScope.KernelHalf.Covers(KernelLayout.USER_SPACE_END - 4096), Is.False);
        Assert.That(FlushScope.KernelHalf.Covers(KernelLayout.USER_SPACE_END), Is.True);
    }

    [Test]
    public void AStale2MEntryIsNamedByItsSize()
    {
        var k = TestKernel.Boot();
        ulong va = KernelLayout.PAGE_OFFSET + 64 * TestKernel.MiB; // a 2M leaf
        var t = k.Walker.Translate(k.InitTopPgt, va)!.Value;
        Assert.That(t.Level, Is.EqualTo(PageLevel.PG_LEVEL_2M));
        k.Tlbs.Cpus[0].Fill(t with { Flags = t.Flags ^ _PAGE_RW });
        Assert.That(Check(k, FlushScope.Everything), Is.EqualTo(1));
        Assert.That(k.Log.Warnings.Single().Message, Does.Contain($"cached 2M pfn:{t.BasePfn:x} flags:{t.Flags ^ _PAGE_RW:x}, tables say 2M pfn:{t.BasePfn:x} flags:{t.Flags:x}"));
    }

    [Test]
    public void AnAddressTheKernelMayLeaveStaleIsNotReported()
    {
        var k = TestKernel.Boot();
        k.Tlbs.Cpus[0].Fill(FourK(k, Va) with { BasePfn = 0x12345 });
        k.Tlbs.Cpus[0].Fill(FourK(k, Va + 4096) with { BasePfn = 0x12346 });
        k.Tlbs.MayBeStale = va => va == Va;
        Assert.That(Check(k, FlushScope.Everything), Is.EqualTo(1), "the lazily freed address is skipped, its neighbour is not");
        Assert.That(k.Log.Warnings.Single().Message, Does.Contain("0xffff888040004000"));
    }

    [Test]
    public void TwoSizesAgreeingOnFrameAndAttributesAreNoMultimatch()
    {
        var k = TestKernel.Boot();
        k.Access(0, Va);
        k.Tlbs.Cpus[0].Fill(FourK(k, Va)); // a 4K entry inside the cached 1G one, the same frame and flags
        Assert.Multiple(() =>
        {
            Assert.That(k.Tlbs.Cpus[0].Count, Is.EqualTo(2));
            Assert.That(Check(k, FlushScope.Everything), Is.Zero);
            Assert.That(k.Log.Warnings, Is.Empty);
        });
        k.Tlbs.Cpus[0].Fill(FourK(k, Va + 4096) with { BasePfn = FourK(k, Va + 4096).BasePfn + 1 });
        Assert.That(Check(k, FlushScope.Everything), Is.EqualTo(2), "the stale 4K entry, and it against the 1G one");
        Assert.That(k.Log.Warnings.Select(w => w.Kind), Is.EqualTo(new[] { "stale-tlb", "tlb-multimatch" }));
        Assert.That(k.Log.Warnings[1].Message, Is.EqualTo(
            "test: CPU 0 caches 0xffff888040004000 as 4K and 1G with different frames or attributes (SDM 4.10.2.3; AMD erratum 383)"));
    }

    [Test]
    public void FreeingATableSomeCpuStillWalkedThroughIsReportedPerEntry()
    {
        var k = TestKernel.Boot();
        var cpu1 = k.Tlbs.Cpus[1];
        cpu1.Fill(new Translation(0x5000, PageLevel.PG_LEVEL_4K, 7, _PAGE_PRESENT, TablePfn: 0x900));
        cpu1.Fill(new Translation(0x2000, PageLevel.PG_LEVEL_4K, 8, _PAGE_PRESENT, TablePfn: 0x900));
        cpu1.Fill(new Translation(0x9000, PageLevel.PG_LEVEL_4K, 9, _PAGE_PRESENT, TablePfn: 0x901));
        Assert.Multiple(() =>
        {
            Assert.That(k.Tlbs.CheckTableFree(0x902, k.Log, "free"), Is.Zero);
            Assert.That(k.Tlbs.CheckTableFree(0x900, k.Log, "free"), Is.EqualTo(2));
            Assert.That(k.Log.Warnings.Select(w => w.Message), Is.EqualTo(new[]
            {
                "free: table pfn:00900 is freed while CPU 1 still caches 0x0000000000002000 walked through it",
                "free: table pfn:00900 is freed while CPU 1 still caches 0x0000000000005000 walked through it",
            }), "in address order");
            Assert.That(k.Log.Warnings.Select(w => w.Kind), Is.All.EqualTo("stale-tlb"));
        });
    }

    [Test]
    public void StaleEntriesAreReportedInAddressOrder()
    {
        var k = TestKernel.Boot();
        int[] pages = [9, 2, 31, 17, 5, 24, 11];
        foreach (int i in pages)
            k.Tlbs.Cpus[0].Fill(FourK(k, Va + (ulong)i * 4096) with { BasePfn = 0x12345 + i });
        Assert.That(Check(k, FlushScope.Everything), Is.EqualTo(pages.Length));
        Assert.That(k.Log.Warnings.Select(w => w.Message[(w.Message.IndexOf("0x", StringComparison.Ordinal))..][..18]),
            Is.EqualTo(pages.Order().Select(i => $"0x{Va + (ulong)i * 4096:x16}")));
    }

    // What a check found coherent is remembered with the entries its walk read; the store's
    // write log says which changed since. These make sure a change is never missed.

    [Test]
    public void AnEntryFoundCoherentIsStaleOnceItsPteChanges()
    {
        var k = TestKernel.Boot(pti: false);
        k.SetMemory.FourK(Va, 1);
        k.Access(0, Va);
        k.Access(0, Va + 4096);
        Assert.That(Check(k, FlushScope.Everything), Is.Zero);
        var e = k.lookup_address(Va);
        ulong pte = k.Walker.Read(e);
        k.Walker.Write(e, pte ^ _PAGE_RW); // behind the CPU's back: no flush
        Assert.That(Check(k, FlushScope.Everything), Is.EqualTo(1));
        Assert.That(k.Log.Warnings.Single().Message, Does.Contain("0xffff888040003000"));
        Assert.That(Check(k, FlushScope.Everything), Is.EqualTo(1), "still stale at the next check");
    }

    [Test]
    public void AnEntryFoundCoherentIsStaleOnceALevelAboveChanges()
    {
        var k = TestKernel.Boot(pti: false);
        k.SetMemory.FourK(Va, 1);
        k.Access(0, Va);
        Assert.That(Check(k, FlushScope.Everything), Is.Zero);
        var pte = k.lookup_address(Va);
        // The pmd entry that points at the PTE table loses RW: every page below loses it.
        var neighbour = k.lookup_address(Va + 2 * TestKernel.MiB); // a 2M leaf of the same pmd table
        Assert.That(neighbour.Level, Is.EqualTo(PageLevel.PG_LEVEL_2M));
        var pmdTable = k.Tables[neighbour.TablePfn];
        int mi = PageShifts.pmd_index(Va);
        Assert.That(PageBits.pmd_pfn(pmdTable[mi]), Is.EqualTo(pte.TablePfn));
        pmdTable[mi] &= ~_PAGE_RW;
        Assert.That(Check(k, FlushScope.Everything), Is.EqualTo(1));
    }

    [Test]
    public void MoreChangesThanTheWriteLogHoldsStillLeaveAStaleEntryFound()
    {
        var k = TestKernel.Boot(pti: false);
        k.SetMemory.FourK(Va, 1);
        k.Access(0, Va);
        Assert.That(Check(k, FlushScope.Everything), Is.Zero);
        var e = k.lookup_address(Va);
        k.Walker.Write(e, k.Walker.Read(e) ^ _PAGE_RW);
        // Then more changes elsewhere in the table than the log keeps: the log forgets the first.
        for (int i = 0; i < 2 * PageTableStore.WriteLogSize; i++)
        {
            var other = k.lookup_address(Va + (ulong)(i % 100 + 10) * 4096);
            k.Walker.Write(other, k.Walker.Read(other) ^ _PAGE_ACCESSED);
        }
        Assert.That(Check(k, FlushScope.Everything), Is.EqualTo(1));
    }

    [Test]
    public void AnEntryMovedByARemovalKeepsWhatTheCheckFoundOfIt()
    {
        var k = TestKernel.Boot(pti: false);
        k.SetMemory.FourK(Va, 1);
        var cpu = k.Tlbs.Cpus[0];
        ulong base2M = Va & ~(PageShifts.PMD_SIZE - 1);
        // Two pages of the split 2M range whose entries want the same slot: the second fill
        // sits one slot on, and moves back when the first goes.
        var (a, b) = Enumerable.Range(0, 512).Select(i => base2M + (ulong)i * 4096)
            .GroupBy(va => cpu.HomeOf(va, PageLevel.PG_LEVEL_4K)).First(g => g.Count() >= 2)
            .Take(2).ToArray() switch { var p => (p[0], p[1]) };
        cpu.Fill(FourK(k, a));
        cpu.Fill(FourK(k, b));
        Assert.That(Check(k, FlushScope.Everything), Is.Zero);
        int slotB = cpu.SlotOf(b, PageLevel.PG_LEVEL_4K);
        cpu.Invlpg(a);
        Assert.That(cpu.SlotOf(b, PageLevel.PG_LEVEL_4K), Is.Not.EqualTo(slotB), "b moved into a's slot");
        var e = k.lookup_address(b);
        k.Walker.Write(e, k.Walker.Read(e) ^ _PAGE_RW);
        Assert.That(Check(k, FlushScope.Everything), Is.EqualTo(1), "b is stale: its slot's memory is b's, not a's");
    }

    [Test]
    public void ACheckAgainstAnotherKernelsTablesForgetsWhatEarlierChecksFound()
    {
        var k1 = TestKernel.Boot(pti: false);
        var k2 = TestKernel.Boot(pti: false);
        k1.SetMemory.FourK(Va, 1);
        k2.SetMemory.FourK(Va, 1);
        var e2 = k2.lookup_address(Va);
        k2.Walker.Write(e2, k2.Walker.Read(e2) ^ _PAGE_RW);
        k1.Access(0, Va);
        // The same count of changes in both stores, so only the store itself tells them apart.
        var e1 = k1.lookup_address(Va + 4096);
        while (k1.Tables.Writes < k2.Tables.Writes)
            k1.Walker.Write(e1, k1.Walker.Read(e1) ^ _PAGE_ACCESSED);
        Assume.That(k1.Tables.Writes, Is.EqualTo(k2.Tables.Writes));
        Assert.That(k1.Tlbs.CheckCoherence(k1.Walker, k1.InitTopPgt, k1.Log, "own"), Is.Zero);
        Assert.That(k1.Tlbs.CheckCoherence(k2.Walker, k2.InitTopPgt, k1.Log, "other"), Is.EqualTo(1));
    }

    /// <summary>
    /// A 2M entry cached over a split table was found coherent through all 512 PTEs (a key for
    /// the whole table): a change to any one of them makes it stale.
    /// <code>
    ///   2M entry [----------------------------------------------]
    ///   PTEs     [ ][ ][ ] ... [RW cleared at 300] ... [ ]
    /// </code>
    /// </summary>
    [Test]
    public void ALargeEntryOverASplitTableIsStaleOnceAnyOfItsPtesChanges()
    {
        var k = TestKernel.Boot(pti: false);
        ulong va = KernelLayout.PAGE_OFFSET + 64 * TestKernel.MiB; // a 2M leaf
        var large = k.Walker.Translate(k.InitTopPgt, va)!.Value;
        Assert.That(large.Level, Is.EqualTo(PageLevel.PG_LEVEL_2M));
        k.SetMemory.FourK(va, 1); // split, attributes kept: the cached 2M translation still holds
        k.Tlbs.Cpus[0].Fill(large);
        Assert.That(Check(k, FlushScope.Everything), Is.Zero);
        var e = k.lookup_address(va + 300 * 4096);
        k.Walker.Write(e, k.Walker.Read(e) & ~_PAGE_RW);
        Assert.That(Check(k, FlushScope.Everything), Is.EqualTo(1));
        Assert.That(k.Log.Warnings.Single().Message, Does.Contain("cached 2M"));
    }

    /// <summary>A process with one written page at 0x500000000000, and CPU 0's TLB holding only its translation.</summary>
    private static (Kernel K, KernelMm.Model.Mm.Process P, ulong A) UserPageCached()
    {
        var k = TestKernel.Boot(pti: false);
        var p = k.Spawn("a");
        ulong a = p.Mmap(4096, at: 0x500000000000);
        p.Touch(a, 4096, KernelMm.Model.Mm.Access.Write);
        var cpu = k.Tlbs.Cpus[0];
        cpu.FlushAll();
        cpu.Fill(k.Walker.Translate(p.Mm.Pgd, a)!.Value);
        return (k, p, a);
    }

    [Test]
    public void ACpuThatSwitchedPgdsIsWalkedAgain()
    {
        var (k, p, a) = UserPageCached();
        Assert.That(k.Tlbs.CheckCoherence(k.Walker, _ => p.Mm.Pgd, k.Log, "own"), Is.Zero, "coherent under its own pgd");
        Assert.That(k.Tlbs.CheckCoherence(k.Walker, _ => k.InitTopPgt, k.Log, "other"), Is.EqualTo(1), "under init_mm's pgd the address maps nothing");
        Assert.That(k.Tlbs.CheckCoherence(k.Walker, _ => p.Mm.Pgd, k.Log, "back"), Is.Zero);
    }

    /// <summary>
    /// A PTE table freed and made again in the same frame (the store reuses its slot) with
    /// another frame at the entry a cached translation walked: the free counts as a change to
    /// every entry of the table, so the translation is walked again and found stale.
    /// </summary>
    [Test]
    public void ATableFreedAndMadeAgainInTheSameFrameLeavesItsTranslationsStale()
    {
        var (k, p, a) = UserPageCached();
        Assert.That(k.Tlbs.CheckCoherence(k.Walker, _ => p.Mm.Pgd, k.Log, "before"), Is.Zero);
        var pte = k.Walker.LookupAddress(p.Mm.Pgd, a);
        ulong old = k.Walker.Read(pte);
        k.Tables.Remove(pte.TablePfn); // behind the CPU's back, no flush
        var again = k.Tables.Create(pte.TablePfn);
        again[pte.Index] = old + (1UL << 12); // the next frame, same flags
        Assert.That(k.Tlbs.CheckCoherence(k.Walker, _ => p.Mm.Pgd, k.Log, "after"), Is.EqualTo(1));
    }
}
