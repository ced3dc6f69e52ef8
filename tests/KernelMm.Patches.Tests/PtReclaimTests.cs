using KernelMm.Model;
using KernelMm.Model.Boot;
using KernelMm.Model.Mm;
using KernelMm.Model.Stats;

namespace KernelMm.Patches.Tests;

/// <summary>pt-reclaim (v6.14): MADV_DONTNEED frees the PTE tables whose whole 2M it zapped empty, and nothing else does.</summary>
public class PtReclaimTests
{
    private const long MiB = 1L << 20;
    private const ulong At = 0x600000000000;

    private static (Kernel K, PtReclaim P, Process Proc) Boot(params IPatch[] more)
    {
        var patch = new PtReclaim();
        var k = PatchedKernel.Boot(new BootOptions(), [.. more, patch]);
        return (k, patch, k.Spawn("app"));
    }

    private static int TablesIn(Process p, ulong start, long len) =>
        p.Mm.PteTablesInVmas().Count(t => t.Addr >= (start & ~(2UL * MiB - 1)) && t.Addr < start + (ulong)len);

    [Test]
    public void DontneedOfAWholeTableFreesItDuringTheCall()
    {
        var (k, patch, p) = Boot();
        p.Mmap(8 * MiB, at: At);
        p.Touch(At, 8 * MiB, Access.Write, stride: 64 * 1024);
        long vmpte = p.Status["VmPTE"], nr = k.VmStat[VmStatItem.NR_PAGETABLE];
        p.Madvise(At, 8 * MiB, Advice.DontNeed);
        Assert.Multiple(() =>
        {
            Assert.That(TablesIn(p, At, 8 * MiB), Is.Zero);
            Assert.That(vmpte - p.Status["VmPTE"], Is.EqualTo(4 * 4), "mm_dec_nr_ptes for each of the 4 tables; the PMD table stays");
            Assert.That(nr - k.VmStat[VmStatItem.NR_PAGETABLE], Is.EqualTo(4));
            Assert.That(patch.For(k).Reclaimed, Is.EqualTo(4));
            Assert.That(k.Tlbs.Cpus[p.Cpu].Lookup(At), Is.Null);
            Assert.That(k.RunChecks(), Is.Empty);
            Assert.That(k.Log.Warnings, Is.Empty);
        });
    }

    [Test]
    public void APartOfATableIsNotEnoughEvenWhenTheRestIsEmpty()
    {
        // reclaim_pt_is_enabled needs end - start >= PMD_SIZE: the zap of this table covers only 2M - 4K.
        var (k, patch, p) = Boot();
        p.Mmap(2 * MiB, at: At);
        p.Touch(At, 4096, Access.Write);
        p.Madvise(At, 2 * MiB - 4096, Advice.DontNeed);
        Assert.That((TablesIn(p, At, 2 * MiB), patch.For(k).Reclaimed), Is.EqualTo((1, 0L)));
        p.Madvise(At, 2 * MiB, Advice.DontNeed);               // now the whole 2M
        Assert.That((TablesIn(p, At, 2 * MiB), patch.For(k).Reclaimed), Is.EqualTo((0, 1L)));
    }

    [Test]
    public void AnUnaligned2MRangeCoversNeitherTable()
    {
        var (k, patch, p) = Boot();
        p.Mmap(4 * MiB, at: At);
        p.Touch(At + MiB, 2 * MiB, Access.Write);
        p.Madvise(At + (ulong)MiB, 2 * MiB, Advice.DontNeed);
        Assert.That((TablesIn(p, At, 4 * MiB), patch.For(k).Reclaimed), Is.EqualTo((2, 0L)));
    }

    [Test]
    public void AVmaSmallerThanATableNeverGivesItsTableBack()
    {
        // madvise zaps one VMA's part at a time (zap_page_range_single): two 1M VMAs sharing a table.
        var (k, patch, p) = Boot();
        p.Mmap(1 * MiB, at: At);
        p.Mmap(1 * MiB, prot: Prot.Read, at: At + (ulong)MiB);
        p.Touch(At, MiB, Access.Write);
        p.Touch(At + (ulong)MiB, MiB, Access.Read);
        p.Madvise(At, 2 * MiB, Advice.DontNeed);
        Assert.That((TablesIn(p, At, 2 * MiB), patch.For(k).Reclaimed), Is.EqualTo((1, 0L)));
    }

    [Test]
    public void ZeroPageTablesStayUntilTheyAreZapped()
    {
        // Unlike the RFC's free_ptes, nothing frees a table of zero-page entries; DONTNEED empties and then frees it.
        var (k, patch, p) = Boot();
        p.Mmap(4 * MiB, at: At);
        p.Touch(At, 4 * MiB, Access.Read);
        k.Reclaim();
        Assert.That(TablesIn(p, At, 4 * MiB), Is.EqualTo(2));
        p.Madvise(At, 2 * MiB, Advice.DontNeed);
        Assert.That((TablesIn(p, At, 4 * MiB), patch.For(k).Reclaimed), Is.EqualTo((1, 1L)));
        Assert.That(k.RunChecks(), Is.Empty);
    }

    [Test]
    public void MadvFreeMunmapAndExitDoNotReclaim()
    {
        var (k, patch, p) = Boot();
        p.Mmap(4 * MiB, at: At);
        p.Touch(At, 4 * MiB, Access.Write);
        p.Madvise(At, 4 * MiB, Advice.Free);
        Assert.That(TablesIn(p, At, 4 * MiB), Is.EqualTo(2));
        p.Munmap(At, 2 * MiB);                                   // free_pgtables frees it, not pt_reclaim
        p.Exit();
        Assert.That(patch.For(k).Reclaimed, Is.Zero);
        Assert.That(k.RunChecks(), Is.Empty);
    }

    [Test]
    public void AReclaimedTableFaultsBackInAndExitFreesEverything()
    {
        var (k, patch, p) = Boot();
        p.Mmap(2 * MiB, at: At);
        p.Touch(At, 2 * MiB, Access.Write);
        p.Madvise(At, 2 * MiB, Advice.DontNeed);
        Assert.That((TablesIn(p, At, 2 * MiB), patch.For(k).Reclaimed), Is.EqualTo((0, 1L)), "the table was reclaimed, so the touch below faults a new one in");
        p.Touch(At, 2 * MiB, Access.Write);
        Assert.That(TablesIn(p, At, 2 * MiB), Is.EqualTo(1));
        p.Exit();
        Assert.That(k.RunChecks(), Is.Empty);
    }

    [Test]
    public void WithoutThePatchDontneedKeepsTheTables()
    {
        var k = PatchedKernel.Boot();
        var p = k.Spawn("app");
        p.Mmap(2 * MiB, at: At);
        p.Touch(At, 2 * MiB, Access.Write);
        p.Madvise(At, 2 * MiB, Advice.DontNeed);
        Assert.That(TablesIn(p, At, 2 * MiB), Is.EqualTo(1));
    }

    [Test]
    public void ItIsTheUpstreamDescendantOfPteRefcount()
    {
        var patch = Series.Landed.Patches.OfType<PtReclaim>().Single();
        Assert.Multiple(() =>
        {
            Assert.That(patch.Of, Is.EqualTo("pte-refcount"));
            Assert.That(Series.Posted.IndexOf(patch.Of), Is.GreaterThanOrEqualTo(0));
            Assert.That(patch.Merged, Is.EqualTo("v6.14"));
            Assert.That(patch.Posted, Does.Contain("6375e95f381e"));
        });
    }
}
