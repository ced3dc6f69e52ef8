using KernelMm.Model.Boot;
using KernelMm.Model.Mm;
using KernelMm.Model.Stats;

namespace KernelMm.Model.Tests.Mm;

/// <summary>The PteTableZapped seam at the end of zap_pte_range: who zapped what, and freeing a table through it.</summary>
public class ZapSeamTests
{
    private const ulong At = 0x600000000000, MiB = TestKernel.MiB;

    private static (Kernel K, Process P, List<PteTableZap> Seen) Boot(Func<PteTableZap, bool>? decide = null)
    {
        var seen = new List<PteTableZap>();
        var k = new Kernel(new BootOptions(), k => k.PageTableHooks.PteTableZapped = (_, z) =>
        {
            seen.Add(z);
            return decide?.Invoke(z) ?? false;
        });
        return (k, k.Spawn("app"), seen);
    }

    [Test]
    public void EachTableOfTheZapIsReportedWithItsCallerAndItsPartOfTheRange()
    {
        var (_, p, seen) = Boot();
        p.Mmap((long)(4 * MiB), at: At);
        p.Touch(At, (long)(4 * MiB), Access.Write);
        seen.Clear();
        p.Madvise(At + MiB, (long)(2 * MiB), Advice.DontNeed);
        Assert.That(seen, Is.EqualTo(new[]
        {
            new PteTableZap(ZapCaller.MadviseDontneed, At + MiB, At + 2 * MiB, seen[0].PtePfn, false),
            new PteTableZap(ZapCaller.MadviseDontneed, At + 2 * MiB, At + 3 * MiB, seen[1].PtePfn, false),
        }));
        seen.Clear();
        p.Munmap(At, (long)(4 * MiB));
        Assert.That(seen.Select(z => (z.Caller, z.End - z.Start)), Is.EqualTo(new[] { (ZapCaller.Munmap, 2 * MiB), (ZapCaller.Munmap, 2 * MiB) }));
    }

    [Test]
    public void ExitReportsItsZapsAsExitMmap()
    {
        var (_, p, seen) = Boot();
        p.Mmap((long)(2 * MiB), at: At);
        p.Touch(At, 4096, Access.Write);
        p.Exit();
        Assert.That(seen.Select(z => z.Caller).Distinct(), Is.EqualTo(new[] { ZapCaller.ExitMmap }));
    }

    [Test]
    public void ATableTheSeamFreesLeavesVmPteAtOnceAndTheFramesBalance()
    {
        var (k, p, _) = Boot(z => z.Caller == ZapCaller.MadviseDontneed);
        p.Mmap((long)(2 * MiB), at: At);
        p.Touch(At, (long)(2 * MiB), Access.Write);
        long vmpte = p.Status["VmPTE"], tables = k.VmStat[VmStatItem.NR_PAGETABLE];
        p.Madvise(At, (long)(2 * MiB), Advice.DontNeed);
        Assert.Multiple(() =>
        {
            Assert.That(vmpte - p.Status["VmPTE"], Is.EqualTo(4));
            Assert.That(tables - k.VmStat[VmStatItem.NR_PAGETABLE], Is.EqualTo(1));
            Assert.That(p.Mm.PteTableOf(At), Is.EqualTo(-1));
            Assert.That(k.Tlbs.Cpus[p.Cpu].Lookup(At), Is.Null);
            Assert.That(k.RunChecks(), Is.Empty);
        });
        p.Touch(At, 4096, Access.Write); // faults a new table in
        p.Exit();
        Assert.That(k.RunChecks(), Is.Empty);
    }
}
