using KernelMm.Model;
using KernelMm.Model.Boot;
using KernelMm.Model.Paging;
using KernelMm.Model.Tlb;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Patches.Tests;

/// <summary>
/// The RFC's collapse, at the second gigabyte of the direct map:
/// <code>
///   0xffff888040000000                                   0xffff888080000000
///   [ 2M: 512 x 4K ][ 2M ][ 2M ] ... 512 x 2M              after one 4K change
///   [ 1G                                               ]   after it is undone
/// </code>
/// </summary>
public class RestoreLargePagesTests
{
    private static readonly ulong G1 = KernelLayout.PAGE_OFFSET + (1UL << 30);

    private static (Kernel K, RestoreLargePages P) Boot(bool gbpages = true, bool freeBeforeFlush = false)
    {
        // The series' own constructor unless the test breaks the patch on purpose.
        var patch = freeBeforeFlush ? new RestoreLargePages(freeBeforeFlush: true) : new RestoreLargePages();
        return (PatchedKernel.Boot(new BootOptions(GbPages: gbpages), patch), patch);
    }

    [Test]
    public void UndoingAChangeRestoresThe2MAndThe1GLeafButNotTheCounters()
    {
        var (k, patch) = Boot();
        k.SetMemory.ReadOnly(G1, 1);
        Assert.That(k.lookup_address(G1).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
        long tables = k.Tables.Count;
        k.SetMemory.ReadWrite(G1, 1);
        Assert.Multiple(() =>
        {
            Assert.That(k.lookup_address(G1).Level, Is.EqualTo(PageLevel.PG_LEVEL_1G));
            Assert.That(patch.For(k).Restored2M, Is.EqualTo(1));
            Assert.That(patch.For(k).Restored1G, Is.EqualTo(1));
            Assert.That(tables - k.Tables.Count, Is.EqualTo(2), "the PTE and the PMD table were freed");
            Assert.That(k.Meminfo["DirectMap4k"], Is.EqualTo(2048 + 2048), "the RFC never updates direct_pages_count");
            Assert.That(k.Meminfo["DirectMap1G"], Is.EqualTo(4L << 20));
            // Only table pages were freed (the leaf pages stay mapped), but DirectMap drifted.
            Assert.That(k.RunChecks().Select(w => w.Kind), Is.EqualTo(new[] { "directmap", "directmap", "directmap" }));
            Assert.That(k.RunChecks()[0].Message, Is.EqualTo("DirectMap4k is 4096 kB (1024 entries) but the direct map holds 512 4k leaves: 2048 kB off"));
            Assert.That(k.Log.Warnings, Is.Empty);
        });
    }

    [Test]
    public void WithoutGbpagesOnlyThe2MLeafComesBack()
    {
        var (k, patch) = Boot(gbpages: false);
        k.SetMemory.ReadOnly(G1, 1);
        k.SetMemory.ReadWrite(G1, 1);
        Assert.Multiple(() =>
        {
            Assert.That(k.lookup_address(G1).Level, Is.EqualTo(PageLevel.PG_LEVEL_2M));
            Assert.That(patch.For(k).Restored1G, Is.Zero);
        });
    }

    [Test]
    public void OneDifferingFlagRefuses()
    {
        var (k, patch) = Boot();
        k.SetMemory.ReadOnly(G1, 2);
        k.SetMemory.ReadWrite(G1, 1);
        Assert.That(patch.For(k).PteTablesScanned, Is.Positive, "the scan ran (the request changed something)");
        Assert.That(k.lookup_address(G1).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
    }

    [Test]
    public void AnInvisibleBitRefusesToo()
    {
        var (k, patch) = Boot();
        k.SetMemory.Change("change_page_attr_set", G1 + 4096, 1, _PAGE_CPA_TEST, 0);
        k.SetMemory.ReadOnly(G1, 1);
        k.SetMemory.ReadWrite(G1, 1);
        Assert.That(patch.For(k).PteTablesScanned, Is.Positive, "the scan ran (the request changed something)");
        Assert.That(k.lookup_address(G1).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
    }

    [Test]
    public void ANotPresentPageRefuses()
    {
        var (k, patch) = Boot();
        k.SetMemory.NotPresent(G1 + 8192, 1);
        k.SetMemory.ReadOnly(G1, 1);
        k.SetMemory.ReadWrite(G1, 1);
        Assert.That(patch.For(k).PteTablesScanned, Is.Positive, "the scan ran (the request changed something)");
        Assert.That(k.lookup_address(G1).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
    }

    [Test]
    public void Set4kPagesAreNeverCollapsed()
    {
        var (k, patch) = Boot();
        k.SetMemory.FourK(G1, 512);
        k.SetMemory.ReadOnly(G1 + 4096, 1);
        k.SetMemory.ReadWrite(G1 + 4096, 1);
        Assert.That(patch.For(k).PteTablesScanned, Is.Positive, "the scan ran (the request changed something)");
        Assert.Multiple(() =>
        {
            Assert.That(k.lookup_address(G1).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
            Assert.That(pte_flags(k.Walker.Read(k.lookup_address(G1))) & _PAGE_KERNEL_4K, Is.Not.Zero);
        });
    }

    /// <summary>
    /// The table is made to map what the RFC must refuse, every entry read-only, and then made
    /// read-write as a whole: a real change, so cpa_flush runs the scan (a request that changes
    /// nothing returns before it, and a test built on one passes without the patch's code).
    /// </summary>
    [Test]
    public void MisalignedOrNonContiguousPfnsRefuse()
    {
        var (k, patch) = Boot();
        var restore = patch.For(k);
        k.SetMemory.ReadOnly(G1, 1);
        var table = k.Tables[k.lookup_address(G1).TablePfn];
        ulong ro = pte_flags(table[0]);
        long basePfn = pte_pfn(table[0]);

        // Contiguous pfns shifted by one page: the first is not 2M-aligned.
        for (int i = 0; i < 512; i++)
            table[i] = pfn_pte(basePfn + i + 1, ro);
        long scanned = restore.PteTablesScanned;
        k.SetMemory.ReadWrite(G1, 512);
        Assert.Multiple(() =>
        {
            Assert.That(restore.PteTablesScanned, Is.GreaterThan(scanned), "the scan ran");
            Assert.That(restore.RefusedMisaligned, Is.EqualTo(1), "and refused for the first pfn");
            Assert.That(k.lookup_address(G1).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K), "misaligned");
        });

        // Aligned, but one pfn out of order.
        for (int i = 0; i < 512; i++)
            table[i] = pfn_pte(basePfn + (i == 7 ? 9 : i), ro);
        scanned = restore.PteTablesScanned;
        k.SetMemory.ReadWrite(G1, 512);
        Assert.Multiple(() =>
        {
            Assert.That(restore.PteTablesScanned, Is.GreaterThan(scanned), "the scan ran");
            Assert.That(restore.RefusedMisaligned, Is.EqualTo(1), "not for alignment this time");
            Assert.That(k.lookup_address(G1).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K), "one pfn out of order");
        });

        // The same table made right collapses: the refusals above were for what was wrong.
        for (int i = 0; i < 512; i++)
            table[i] = pfn_pte(basePfn + i, ro);
        k.SetMemory.ReadWrite(G1, 512);
        Assert.That(k.lookup_address(G1).Level, Is.Not.EqualTo(PageLevel.PG_LEVEL_4K), "restored");
    }

    [Test]
    public void ARangeStraddlingAGigabyteBoundaryVisitsOnlyTheFirstRegion()
    {
        var (k, _) = Boot();
        ulong g2 = G1 + (1UL << 30);
        k.SetMemory.ReadOnly(g2 - 4096, 2);          // splits both regions
        k.SetMemory.ReadWrite(g2 - 4096, 2);         // from an unaligned start, PUD_SIZE steps
        Assert.Multiple(() =>
        {
            Assert.That(k.lookup_address(G1).Level, Is.EqualTo(PageLevel.PG_LEVEL_1G), "the region of the start collapses");
            Assert.That(k.lookup_address(g2).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K), "the next region is never scanned");
        });
    }

    [Test]
    public void TablesAreFreedOnlyAfterTheFlush()
    {
        var (k, patch) = Boot();
        k.SetMemory.ReadOnly(G1, 1);
        k.Access(0, G1 + 4096, AccessKind.Read);
        Assert.That(k.Tlbs.Cpus[0].Lookup(G1 + 4096), Is.Not.Null, "CPU 0 caches a translation through the PTE table");
        long tables = k.Tables.Count;
        k.SetMemory.ReadWrite(G1, 1);
        Assert.Multiple(() =>
        {
            Assert.That(tables - k.Tables.Count, Is.EqualTo(2), "the collapse ran and freed the PTE and PMD tables");
            Assert.That(patch.For(k).Restored1G, Is.EqualTo(1));
            Assert.That(k.Tlbs.Cpus[0].Lookup(G1 + 4096), Is.Null, "flushed before they were freed");
            Assert.That(k.Log.Warnings, Is.Empty);
        });
    }

    [Test]
    public void FreeingTablesBeforeTheFlushIsCaught()
    {
        var (k, _) = Boot(freeBeforeFlush: true);
        k.SetMemory.ReadOnly(G1, 1);
        k.Access(0, G1 + 4096, AccessKind.Read);
        k.SetMemory.ReadWrite(G1, 1);
        Assert.That(k.Log.Warnings.Select(w => w.Message), Has.Some.Contains("is freed while CPU 0 still caches 0xffff888040001000")
            .And.Some.StartsWith("restore_large_pages (freed before the flush): "), "the report names where the table was freed");
    }

    [Test]
    public void AChangeToAWholeGigabyteKeepsItsLeafAndTheScanLeavesItAlone()
    {
        var (k, patch) = Boot();
        k.SetMemory.ReadOnly(G1, 512 * 512);
        var e = k.lookup_address(G1);
        Assert.Multiple(() =>
        {
            Assert.That(e.Level, Is.EqualTo(PageLevel.PG_LEVEL_1G), "changed in place");
            Assert.That(k.Tables[e.TablePfn][e.Index] & _PAGE_RW, Is.Zero);
            Assert.That(patch.For(k).PteTablesScanned + patch.For(k).Restored2M + patch.For(k).Restored1G, Is.Zero, "a 1G leaf has no table to scan");
            Assert.That(k.RunChecks(), Is.Empty);
        });
    }

    [Test]
    public void OneReadOnly2MKeepsTheGigabyteSplit()
    {
        var (k, patch) = Boot();
        k.SetMemory.ReadOnly(G1 + (2UL << 20), 512);     // the second 2M leaf changes in place
        k.SetMemory.ReadOnly(G1, 1);
        k.SetMemory.ReadWrite(G1, 1);                    // the first 2M is whole again
        Assert.Multiple(() =>
        {
            Assert.That((patch.For(k).Restored2M, patch.For(k).Restored1G), Is.EqualTo((1L, 0L)));
            Assert.That(k.lookup_address(G1).Level, Is.EqualTo(PageLevel.PG_LEVEL_2M));
            Assert.That(k.lookup_address(G1 + (2UL << 20)).Level, Is.EqualTo(PageLevel.PG_LEVEL_2M), "the read-only 2M differs in pmd_flags");
            Assert.That(k.RunChecks().Where(w => w.Kind != "directmap"), Is.Empty, "nothing but the RFC's DirectMap drift (it never calls update_page_count)");
        });
    }

    [Test]
    public void EachRestoreFreesOnlyTheTablesItCollapsed()
    {
        var (k, patch) = Boot();
        for (int round = 1; round <= 2; round++)
        {
            k.SetMemory.ReadOnly(G1, 1);
            long tables = k.Tables.Count;
            k.SetMemory.ReadWrite(G1, 1);
            Assert.That(tables - k.Tables.Count, Is.EqualTo(2), $"round {round}: the PTE and the PMD table");
        }
        Assert.Multiple(() =>
        {
            Assert.That(patch.For(k).Restored1G, Is.EqualTo(2));
            Assert.That(k.Log.Warnings, Is.Empty, "the first round's tables are not freed again");
            Assert.That(k.RunChecks().Where(w => w.Kind != "directmap"), Is.Empty, "nothing but the RFC's DirectMap drift (it never calls update_page_count)");
        });
    }

    [Test]
    public void ARequestThatRestoresNothingFlushesOnlyItsOwnPages()
    {
        var (k, patch) = Boot();
        ulong far = G1 + (256UL << 20);
        k.SetMemory.ReadOnly(G1, 2);
        k.Access(0, far, AccessKind.Read);
        k.SetMemory.ReadWrite(G1, 1);                    // G1 + 4K stays read-only: nothing to restore
        Assert.Multiple(() =>
        {
            Assert.That(patch.For(k).Restored2M, Is.Zero);
            Assert.That(k.Tlbs.Cpus[0].Lookup(far), Is.Not.Null, "one INVLPG, not flush_tlb_all");
        });
    }

    /// <summary>
    /// The second gigabyte is left split but uniform (a request straddling into it is never
    /// scanned there); what a later request scans depends on its end, stepping PUD_SIZE.
    /// </summary>
    private static ulong SplitTheNextGigabyteUniformly(Kernel k)
    {
        ulong g2 = G1 + (1UL << 30);
        k.SetMemory.ReadOnly(g2 - 4096, 2);
        k.SetMemory.ReadWrite(g2 - 4096, 2);
        Assert.That(k.lookup_address(g2).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
        k.SetMemory.ReadOnly(G1, 1);
        return g2;
    }

    [Test]
    public void ARequestEndingAtAGigabyteBoundaryDoesNotScanTheNext()
    {
        var (k, _) = Boot();
        ulong g2 = SplitTheNextGigabyteUniformly(k);
        k.SetMemory.ReadWrite(G1, 512 * 512);
        Assert.Multiple(() =>
        {
            Assert.That(k.lookup_address(G1).Level, Is.EqualTo(PageLevel.PG_LEVEL_1G));
            Assert.That(k.lookup_address(g2).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
        });
    }

    [Test]
    public void ARequestLongerThanAGigabyteScansEachRegionItStepsInto()
    {
        var (k, patch) = Boot();
        ulong g2 = SplitTheNextGigabyteUniformly(k);
        k.SetMemory.ReadWrite(G1, 512 * 512 + 1);
        Assert.Multiple(() =>
        {
            Assert.That(k.lookup_address(G1).Level, Is.EqualTo(PageLevel.PG_LEVEL_1G));
            Assert.That(k.lookup_address(g2).Level, Is.EqualTo(PageLevel.PG_LEVEL_1G));
            Assert.That(patch.For(k).Restored1G, Is.EqualTo(3), "the straddling request's G1, then G1 and G2");
            Assert.That(k.RunChecks().Where(w => w.Kind != "directmap"), Is.Empty, "nothing but the RFC's DirectMap drift (it never calls update_page_count)");
        });
    }

    [Test]
    public void APagesArrayRequestScansTheRegionOfEachPage()
    {
        var (k, _) = Boot();
        ulong g2 = G1 + (1UL << 30);
        long[] pfns = [(long)((G1 - KernelLayout.PAGE_OFFSET) >> 12), (long)((g2 - KernelLayout.PAGE_OFFSET) >> 12)];
        k.SetMemory.ChangePagesArray("change_page_attr_set_clr", pfns, 0, _PAGE_RW);
        k.SetMemory.ChangePagesArray("change_page_attr_set_clr", pfns, _PAGE_RW, 0);
        Assert.Multiple(() =>
        {
            Assert.That(k.lookup_address(G1).Level, Is.EqualTo(PageLevel.PG_LEVEL_1G));
            Assert.That(k.lookup_address(g2).Level, Is.EqualTo(PageLevel.PG_LEVEL_1G));
        });
    }

    [Test]
    public void AnAddressArrayRequestIsScannedAsARangeFromItsFirstAddress()
    {
        var (k, _) = Boot();
        ulong g2 = G1 + (1UL << 30);
        k.SetMemory.ChangeArray("change_page_attr_set_clr", [G1, g2], 0, _PAGE_RW);
        k.SetMemory.ChangeArray("change_page_attr_set_clr", [G1, g2], _PAGE_RW, 0);
        Assert.Multiple(() =>
        {
            Assert.That(k.lookup_address(G1).Level, Is.EqualTo(PageLevel.PG_LEVEL_1G));
            Assert.That(k.lookup_address(g2).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K), "two pages from G1: the second address's region is never scanned");
        });
    }
}
