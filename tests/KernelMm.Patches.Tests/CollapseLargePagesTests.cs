using KernelMm.Model;
using KernelMm.Model.Boot;
using KernelMm.Model.Paging;
using KernelMm.Model.Diagnostics;
using KernelMm.Model.Stats;
using KernelMm.Model.Tlb;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Patches.Tests;

/// <summary>
/// The merged collapse (v6.15), in the second gigabyte of the direct map: only set_memory_rox
/// collapses, the 2M first and the 1G only after it, and DirectMap and the collapse events follow.
/// </summary>
public class CollapseLargePagesTests
{
    private static readonly ulong G1 = KernelLayout.PAGE_OFFSET + (1UL << 30);

    private static (Kernel K, CollapseLargePages P) Boot(bool gbpages = true)
    {
        var patch = new CollapseLargePages();
        return (PatchedKernel.Boot(new BootOptions(GbPages: gbpages), patch), patch);
    }

    private static ulong Entry(Kernel k, ulong va)
    {
        var e = k.lookup_address(va);
        return k.Tables[e.TablePfn][e.Index];
    }

    /// <summary>One 4K change and its undo: 1G -> 2M -> 4K, attributes back, tables still there.</summary>
    private static void Fragment(Kernel k, ulong at)
    {
        k.SetMemory.ReadOnly(at + 4096, 1);
        k.SetMemory.ReadWrite(at + 4096, 1);
    }

    [Test]
    public void OtherSetMemoryCallsNeverCollapse()
    {
        var (k, patch) = Boot();
        Fragment(k, G1);
        Assert.Multiple(() =>
        {
            Assert.That(k.lookup_address(G1).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K), "set_memory_rw has no CPA_COLLAPSE");
            Assert.That(patch.For(k).Collapsed2M, Is.Zero);
            Assert.That(k.VmStat[CollapseLargePages.Level2Event], Is.Zero);
        });
    }

    [Test]
    public void RoxOfTheWhole2MCollapsesItAndTheCountersFollow()
    {
        var (k, patch) = Boot();
        Fragment(k, G1);
        long tables = k.Tables.Count, kb4k = k.Meminfo["DirectMap4k"], kb2m = k.Meminfo["DirectMap2M"];
        k.SetMemory.ReadOnlyExec(G1, 512);
        var e = k.lookup_address(G1);
        Assert.Multiple(() =>
        {
            Assert.That(e.Level, Is.EqualTo(PageLevel.PG_LEVEL_2M));
            Assert.That(k.Tables[e.TablePfn][e.Index] & (_PAGE_RW | _PAGE_NX | _PAGE_PSE), Is.EqualTo(_PAGE_PSE), "a ROX 2M leaf");
            Assert.That(patch.For(k).Collapsed1G, Is.Zero, "the other 511 PMDs are RW+NX");
            Assert.That(tables - k.Tables.Count, Is.EqualTo(1), "the PTE table was freed");
            Assert.That(kb4k - k.Meminfo["DirectMap4k"], Is.EqualTo(2048));
            Assert.That(k.Meminfo["DirectMap2M"] - kb2m, Is.EqualTo(2048));
            Assert.That(k.VmStat[CollapseLargePages.Level2Event], Is.EqualTo(1));
            Assert.That(k.VmStat[CollapseLargePages.Level3Event], Is.Zero);
            Assert.That(k.RunChecks(), Is.Empty, "flushed before the free; every leaf page still mapped");
            Assert.That(k.Log.Warnings, Is.Empty);
        });
    }

    [Test]
    public void WhenThe2MMakesThe1GUniformThePudCollapsesToo()
    {
        // The whole gigabyte made ROX: its 511 2M leaves change in place, the fragmented 2M's
        // 512 PTEs change, and the collapse of that PMD makes all 512 PMDs agree.
        var (k, patch) = Boot();
        long kb1g = k.Meminfo["DirectMap1G"], kb4k = k.Meminfo["DirectMap4k"];
        Fragment(k, G1);
        k.SetMemory.ReadOnlyExec(G1, 512L * 512);
        Assert.Multiple(() =>
        {
            Assert.That(k.lookup_address(G1).Level, Is.EqualTo(PageLevel.PG_LEVEL_1G));
            Assert.That((patch.For(k).Collapsed2M, patch.For(k).Collapsed1G), Is.EqualTo((1L, 1L)));
            Assert.That(k.VmStat[CollapseLargePages.Level3Event], Is.EqualTo(1));
            Assert.That((k.Meminfo["DirectMap1G"], k.Meminfo["DirectMap4k"]), Is.EqualTo((kb1g, kb4k)), "back where they were before the split");
            Assert.That(k.RunChecks(), Is.Empty);
        });
    }

    [Test]
    public void WithoutGbpagesOnlyThe2MLeafComesBack()
    {
        var (k, patch) = Boot(gbpages: false);
        Fragment(k, G1);
        k.SetMemory.ReadOnlyExec(G1, 512L * 512);
        Assert.That((patch.For(k).Collapsed2M, patch.For(k).Collapsed1G), Is.EqualTo((1L, 0L)));
    }

    [Test]
    public void ASetMemory4kPageIsNeverCollapsed()
    {
        var (k, patch) = Boot();
        k.SetMemory.FourK(G1, 1);
        Assert.That(Entry(k, G1) & _PAGE_KERNEL_4K, Is.Not.Zero);
        k.SetMemory.ReadOnlyExec(G1, 512);
        Assert.That((k.lookup_address(G1).Level, patch.For(k).Collapsed2M), Is.EqualTo((PageLevel.PG_LEVEL_4K, 0L)));
    }

    [Test]
    public void AnUnalignedRequestStepsFromItsAlignedStart()
    {
        // The RFC stepped PUD_SIZE from the unaligned start; upstream steps PMD_SIZE from addr & PMD_MASK,
        // so a request from the middle of one 2M into the next visits both.
        var (k, patch) = Boot();
        Fragment(k, G1);
        Fragment(k, G1 + (2UL << 20));
        k.SetMemory.ReadOnlyExec(G1, 512);                       // first 2M ROX, collapsed
        k.SetMemory.ReadWrite(G1, 512);
        k.SetMemory.NoExec(G1, 512);
        k.SetMemory.ReadOnlyExec(G1 + (2UL << 20), 512);        // second 2M
        Assert.That(patch.For(k).Collapsed2M, Is.EqualTo(2));
    }

    [Test]
    public void ARoxCallThatChangesNothingDoesNotCollapse()
    {
        // change_page_attr_set_clr returns before cpa_flush when no entry changed (no CPA_FLUSHTLB).
        var (k, patch) = Boot();
        Fragment(k, G1);
        k.SetMemory.ReadOnly(G1, 512);
        k.SetMemory.Exec(G1, 512);                               // ROX already, one call at a time
        k.SetMemory.ReadOnlyExec(G1, 512);
        Assert.That((k.lookup_address(G1).Level, patch.For(k).Collapsed2M), Is.EqualTo((PageLevel.PG_LEVEL_4K, 0L)));
    }

    [Test]
    public void OnePageLeftWritableKeepsThe2MSplit()
    {
        var (k, patch) = Boot();
        Fragment(k, G1);
        k.SetMemory.ReadOnlyExec(G1 + 4096, 511);               // all but the first page
        Assert.Multiple(() =>
        {
            Assert.That(k.lookup_address(G1).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K), "pte_flags differ from the first entry");
            Assert.That(patch.For(k).Collapsed2M, Is.Zero);
        });
    }

    [Test]
    public void TheStepAfterTheRequestsEndIsNotCollapsed()
    {
        var (k, patch) = Boot();
        ulong next = G1 + (2UL << 20);
        Fragment(k, G1);
        Fragment(k, next);
        k.SetMemory.ReadOnly(next, 512);
        k.SetMemory.Exec(next, 512);                             // ROX and collapsible, but not by these calls
        k.SetMemory.ReadOnlyExec(G1, 512);                       // ends exactly where the next 2M starts
        Assert.Multiple(() =>
        {
            Assert.That(k.lookup_address(G1).Level, Is.EqualTo(PageLevel.PG_LEVEL_2M));
            Assert.That(k.lookup_address(next).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
            Assert.That(patch.For(k).Collapsed2M, Is.EqualTo(1));
        });
    }

    [Test]
    public void ARoxThatCollapsesNothingFlushesOnlyItsOwnPages()
    {
        var (k, patch) = Boot();
        ulong far = G1 + (256UL << 20);
        Fragment(k, G1);
        k.Access(0, far, AccessKind.Read);
        k.SetMemory.ReadOnlyExec(G1 + 4096, 1);
        Assert.Multiple(() =>
        {
            Assert.That(patch.For(k).Collapsed2M, Is.Zero);
            Assert.That(k.Tlbs.Cpus[0].Lookup(far), Is.Not.Null, "one INVLPG, no flush_tlb_all");
        });
    }

    /// <summary>
    /// The last page of a 2M made ROX by a one-page request: cpa_flush invalidates only that
    /// page, so CPU 0 still caches another page of the 2M through the PTE table the collapse
    /// frees; the collapse's own flush_tlb_all must come first.
    /// </summary>
    private static (Kernel K, CollapseLargePages P, ulong Cached) CollapseByOnePage(FaultInjection faults)
    {
        var (k, patch) = Boot();
        Fragment(k, G1);
        k.SetMemory.ReadOnly(G1, 512);
        k.SetMemory.Exec(G1 + 4096, 511);                        // all ROX but the first page
        ulong cached = G1 + 8192;
        k.Access(0, cached, AccessKind.Read);
        k.Faults = faults;
        k.SetMemory.ReadOnlyExec(G1, 1);
        return (k, patch, cached);
    }

    [Test]
    public void TablesAreFreedOnlyAfterTheCollapsesFlush()
    {
        var (k, patch, cached) = CollapseByOnePage(FaultInjection.None);
        Assert.Multiple(() =>
        {
            Assert.That(patch.For(k).Collapsed2M, Is.EqualTo(1));
            Assert.That(k.Tlbs.Cpus[0].Lookup(cached), Is.Null);
            Assert.That(k.Log.Warnings, Is.Empty);
        });
    }

    [Test]
    public void ACollapseWithoutItsFlushIsCaught()
    {
        var (k, _, _) = CollapseByOnePage(FaultInjection.SkipTlbFlush);
        Assert.That(k.Log.Warnings.Select(w => w.Message), Has.Some.StartsWith("cpa_collapse_large_pages: table pfn:")
            .And.Some.Contains("still caches 0xffff888040002000"));
    }

    [Test]
    public void TheCollapseEventsExistOnlyWithThePatch()
    {
        var k = PatchedKernel.Boot();
        Assert.That(k.VmStat.TryGet(CollapseLargePages.Level2Event, out _), Is.False);
        var (patched, _) = Boot();
        var names = patched.VmStat.Lines().Select(l => l.Name).ToList();
        Assert.That(names.IndexOf(CollapseLargePages.Level2Event), Is.EqualTo(names.IndexOf("direct_map_level3_splits") + 1));
        Assert.That(names.IndexOf(CollapseLargePages.Level3Event), Is.EqualTo(names.IndexOf(CollapseLargePages.Level2Event) + 1));
        Assert.That(patched.VmStat.IsEvent(CollapseLargePages.Level3Event), Is.True);
    }
}
