using KernelMm.Model.Diagnostics;
using KernelMm.Model.Mm;

namespace KernelMm.Model.Tests.Checks;

/// <summary>Each check catches the breakage it is for, and the unbroken model gives none.</summary>
public class InvariantCheckerTests
{
    private const long MiB = 1L << 20;

    /// <summary>A workload touching every path the checks look at.</summary>
    private static (Kernel K, Process P) Workload(FaultInjection faults = FaultInjection.None, bool pti = true, Memcg? memcg = null, Kernel? kernel = null)
    {
        var k = kernel ?? TestKernel.Boot(pti: pti);
        k.Faults = faults;
        var p = k.Spawn("work", memcg);
        ulong a = p.Mmap(8 * MiB, at: 0x500000000000);
        p.Touch(a, 8 * MiB, Access.Write);
        var c = p.Fork("child");
        c.Touch(a, MiB, Access.Write);
        p.Madvise(a, 2 * MiB, Advice.DontNeed);
        p.Munmap(a + 4 * (ulong)MiB, 4 * MiB);
        var m = k.Vmalloc.LoadModule(5 * 4096, 4096);
        k.Access(0, m.TextAddr);
        m.Unload();
        c.ModifyLdt(2048);
        c.Exit();
        return (k, p);
    }

    private static string[] Kinds(IEnumerable<KernelWarning> w) => [.. w.Select(x => x.Kind).Distinct().Order()];

    [TestCase(true)]
    [TestCase(false)]
    public void AnUnbrokenKernelHasNoFindings(bool pti)
    {
        var (k, p) = Workload(pti: pti);
        Assert.That(k.RunChecks(), Is.Empty);
        Assert.That(k.Log.Warnings, Is.Empty);
        p.Exit();
        Assert.That(k.RunChecks(), Is.Empty);
    }

    [Test]
    public void ClaimsOfOneCheckDoNotLeakIntoTheNext()
    {
        // The checks reuse their claim lists between runs: a frame held in one kernel's
        // check must be free in the next kernel's, and a real double use still seen.
        var (k, _) = Workload();
        Assert.That(k.RunChecks(), Is.Empty);
        var fresh = TestKernel.Boot();
        var q = fresh.Spawn("other");
        ulong a = q.Mmap(4 * MiB);
        q.Touch(a, 4 * MiB, Access.Write);
        Assert.That(fresh.RunChecks(), Is.Empty, "no claim of the first kernel is left over");
        var (leaky, _) = Workload(FaultInjection.LeakPageTable);
        Assert.That(leaky.RunChecks().Where(w => w.Kind == "leak").Select(w => w.Message), Has.Some.Contains("owner UserPageTable"),
            "a leaked table is still found with reused claims");
        Assert.That(k.RunChecks(), Is.Empty, "and nothing of the others' in the first's");
    }

    [Test]
    public void ASkippedFlushLeavesAStaleTranslation()
    {
        var k = TestKernel.Boot();
        k.Faults = FaultInjection.SkipTlbFlush;
        var p = k.Spawn("stale");
        ulong a = p.Mmap(MiB);
        p.Touch(a, 4096, Access.Write);
        p.Munmap(a, MiB);
        Assert.That(k.Log.Warnings.Select(w => w.Kind), Does.Contain("stale-tlb"));
        Assert.That(k.Log.Warnings.First(w => w.Kind == "stale-tlb").Message, Does.StartWith("tlb_finish_mmu: CPU"));
    }

    [Test]
    public void ASkippedCpaFlushIsCaughtAtTheFlushPoint()
    {
        var k = TestKernel.Boot();
        ulong va = KernelLayout.PAGE_OFFSET + (1UL << 30);
        k.SetMemory.FourK(va, 1);
        k.Access(1, va);
        k.Faults = FaultInjection.SkipTlbFlush;
        k.SetMemory.ReadOnly(va, 1);
        Assert.That(k.Log.Warnings.Single().Message, Does.StartWith("cpa_flush: CPU 1 holds a stale translation of 0xffff888040000000"));
    }

    [Test]
    public void ASkippedUserFlushIsCaughtAtTheFlushPoint()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("prot");
        ulong a = p.Mmap(MiB);
        p.Touch(a, 4096, Access.Write);
        k.Faults = FaultInjection.SkipTlbFlush;
        p.Mprotect(a, MiB, Prot.Read);
        Assert.That(k.Log.Warnings.Single().Message, Does.StartWith($"flush_tlb_mm_range: CPU {p.Cpu} holds a stale translation of 0x{a:x16}"));
    }

    [Test]
    public void AMiscountedTableEntryIsFound()
    {
        var (k, _) = Workload(FaultInjection.MiscountTableEntries);
        Assert.That(k.RunChecks().Select(w => w.Message), Has.Some.Match(@"^\d+ \(work\): PTE table pfn:[0-9a-f]+ counts 512 non-none entries but holds 0$"));
    }

    [Test]
    public void ASkippedRssDecrementIsFound()
    {
        var (k, p) = Workload(FaultInjection.SkipRssDecrement);
        Assert.That(k.RunChecks().Select(w => w.Message), Has.Some.StartsWith($"{p}: RssAnon is {p.Mm.AnonRss * 4} kB but it maps"));
    }

    [Test]
    public void ADoubleChargeIsAMemcgFinding()
    {
        var k = TestKernel.Boot();
        var cg = k.Memcgs.Create("cg");
        k.Faults = FaultInjection.DoubleCharge;
        var p = k.Spawn("t", cg);
        ulong a = p.Mmap(MiB);
        p.Touch(a, MiB, Access.Write);
        Assert.That(k.RunChecks().Select(w => w.Message), Has.Some.Match(@"^memcg cg: memory counter \d+ pages, but \d+ pages are charged to it$"));
    }

    [Test]
    public void ALeakedTableIsFoundByFrameConservationAndAccounting()
    {
        var (k, _) = Workload(FaultInjection.LeakPageTable);
        var kinds = Kinds(k.RunChecks());
        Assert.That(kinds, Does.Contain("leak"));
        Assert.That(k.RunChecks().First(w => w.Kind == "leak").Message, Does.Contain("owner UserPageTable"));
    }

    [Test]
    public void ASkippedUnchargeIsBadPageStateAndAMemcgFinding()
    {
        var k = TestKernel.Boot();
        var cg = k.Memcgs.Create("cg");
        Workload(FaultInjection.SkipUncharge, memcg: cg, kernel: k);
        Assert.That(k.Log.Warnings.Select(w => w.Message), Has.Some.Contains("page dumped because: page still charged to cgroup"));
        Assert.That(Kinds(k.RunChecks()), Does.Contain("memcg"));
    }

    [Test]
    public void ADoubleFreeIsReported()
    {
        var (k, _) = Workload(FaultInjection.DoubleFree);
        Assert.That(Kinds(k.Log.Warnings), Does.Contain("double-free"));
    }

    [Test]
    public void ADroppedCounterUpdateIsReported()
    {
        var (k, _) = Workload(FaultInjection.DropCounterUpdate);
        Assert.That(k.RunChecks().Select(w => w.Message), Has.Some.StartsWith("nr_anon_pages is"));
    }

    [Test]
    public void TheBaseKernelsKmemLeakIsAMemcgFinding()
    {
        var k = TestKernel.Boot();
        var cg = k.Memcgs.Create("cg");
        var (_, p) = Workload(memcg: cg, kernel: k);
        p.Exit();
        var memcg = k.RunChecks().Where(w => w.Kind == "memcg").ToList();
        Assert.That(memcg, Has.Count.EqualTo(1));
        Assert.That(memcg[0].Message, Does.Match(@"^memcg cg: kmem counter \d+ pages, but 0 kmem pages are charged to it \(\d+ pages of charge leaked\)$"));
    }

    [Test]
    public void AMemcgWithLiveTasksAndTablesHasNoFindingWhileNothingWasFreed()
    {
        var k = TestKernel.Boot();
        var cg = k.Memcgs.Create("cg");
        var p = k.Spawn("t", cg);
        ulong a = p.Mmap(32 * MiB);
        p.Touch(a, 32 * MiB, Access.Write);
        Assert.That(k.RunChecks(), Is.Empty, "order-2 stack charges count 4 pages from their first page");
    }

    [Test]
    public void ASplitWithoutSplitPageCountIsADirectMapFinding()
    {
        var k = TestKernel.Boot();
        k.Faults = FaultInjection.SkipSplitPageCount;
        k.SetMemory.FourK(KernelLayout.PAGE_OFFSET + TestKernel.GiB, 1);
        Assert.That(k.RunChecks().Select(w => $"{w.Kind}: {w.Message}"), Is.EqualTo(new[]
        {
            "directmap: DirectMap4k is 2048 kB (512 entries) but the direct map holds 1024 4k leaves: -2048 kB off",
            "directmap: DirectMap2M is 1046528 kB (511 entries) but the direct map holds 1022 2M leaves: -1046528 kB off",
            "directmap: DirectMap1G is 5242880 kB (5 entries) but the direct map holds 2 1G leaves and 2 counted without one: 1048576 kB off",
        }));
    }

    [Test]
    public void CountedSplitsOfTheDirectMapAndTheHighMapAreNoFinding()
    {
        var k = TestKernel.Boot();
        k.SetMemory.FourK(KernelLayout.PAGE_OFFSET + TestKernel.GiB, 1);
        // A 2M split in the high map: split_page_count moves DirectMap too (virt_addr_valid).
        k.SetMemory.FourK(k.Image._sdata, 1);
        Assert.That(k.DirectMap.Unbacked(Model.Paging.PageLevel.PG_LEVEL_4K), Is.EqualTo(512));
        Assert.That(k.RunChecks(), Is.Empty);
    }

    [Test]
    public void APatchInvariantRunsWithTheChecks()
    {
        var k = TestKernel.Boot();
        k.Invariants.Add(() => [new KernelWarning("patch", "nr_example is off by one")]);
        Assert.That(k.RunChecks().Single().Message, Is.EqualTo("nr_example is off by one"));
    }

    [Test]
    public void FramesHeldByAPatchCacheAreNotLeaks()
    {
        var k = TestKernel.Boot();
        long pfn = k.Buddy.AllocPages(0, Model.Memory.GfpFlags.GFP_KERNEL, Model.Memory.PageOwnerKind.PatchCache);
        Assert.That(Kinds(k.RunChecks()), Does.Contain("leak"));
        k.FrameClaimers.Add(() => [(pfn, Model.Memory.PageOwnerKind.PatchCache, "test cache")]);
        Assert.That(k.RunChecks(), Is.Empty);
    }

    /// <summary>
    /// Frame conservation looks at every frame, whatever lies around it: taken behind the
    /// checks' back, every free frame of the machine (after 64 given back, at the end of
    /// reserved ranges, in every chunk) is a leak, counted once, the first reported in pfn order.
    /// </summary>
    [Test]
    public void EveryFrameTakenBehindTheChecksBackIsALeak()
    {
        var k = TestKernel.Boot(memory: 256L << 20);
        var taken = new List<long>();
        for (long pfn; (pfn = k.Buddy.AllocPages(0, KernelMm.Model.Memory.GfpFlags.GFP_KERNEL, KernelMm.Model.Memory.PageOwnerKind.Kernel)) >= 0;)
            taken.Add(pfn);
        // And 64 frames given back, a whole word of the free bitmap, with the next one kept.
        var set = taken.ToHashSet();
        long word = taken.Where(p => p % 64 == 0 && Enumerable.Range(0, 65).All(i => set.Contains(p + i))).Order().Skip(100).First();
        for (long i = 0; i < 64; i++)
        {
            k.Buddy.FreePages(word + i, 0);
            taken.Remove(word + i);
        }
        var leaks = k.RunChecks().Where(w => w.Kind == "leak").Select(w => w.Message).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(taken, Has.Count.GreaterThan(50000));
            Assert.That(leaks, Has.Count.EqualTo(21));
            Assert.That(leaks[0], Does.StartWith($"pfn:{taken.Min():x5} is neither free nor held"));
            Assert.That(leaks[^1], Is.EqualTo($"... {taken.Count - 20} more leaked frames"));
            Assert.That(leaks.Take(20).Select(l => Convert.ToInt64(l[4..9], 16)), Is.EqualTo(taken.Order().Take(20)));
        });
    }
}
