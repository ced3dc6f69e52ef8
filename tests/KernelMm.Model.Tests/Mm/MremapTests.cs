using KernelMm.Model.Mm;
using KernelMm.Model.Stats;

namespace KernelMm.Model.Tests.Mm;

/// <summary>mremap as mm/mremap.c (5.x): shrink, grow in place, move, and whole PTE tables moved by move_normal_pmd.</summary>
public class MremapTests
{
    private const long MiB = 1L << 20;
    private const ulong At = 0x200000000000, To = 0x300000000000;

    private static KernelErrnoException Fails(Action call) => Assert.Throws<KernelErrnoException>(() => call())!;

    [Test]
    public void ShrinkUnmapsTheTailAndUnchargesIt()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("app");
        p.Mmap(8 * MiB, at: At);
        p.Touch(At, 8 * MiB, Access.Write);
        long committed = k.Overcommit.CommittedAs, rss = p.Status["VmRSS"];
        Assert.That(p.Mremap(At, 8 * MiB, 2 * MiB), Is.EqualTo(At));
        Assert.Multiple(() =>
        {
            Assert.That(p.Mm.FindVma(At)!.End, Is.EqualTo(At + (ulong)(2 * MiB)));
            Assert.That(rss - p.Status["VmRSS"], Is.EqualTo(6 * 1024));
            Assert.That(committed - k.Overcommit.CommittedAs, Is.EqualTo(6 * MiB >> 12));
        });
    }

    [Test]
    public void GrowsInPlaceWhenTheGapAllowsAndChargesTheGrowth()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("app");
        p.Mmap(2 * MiB, at: At);
        long committed = k.Overcommit.CommittedAs;
        Assert.That(p.Mremap(At, 2 * MiB, 6 * MiB), Is.EqualTo(At));
        Assert.Multiple(() =>
        {
            Assert.That(p.Mm.FindVma(At)!.End, Is.EqualTo(At + (ulong)(6 * MiB)));
            Assert.That(k.Overcommit.CommittedAs - committed, Is.EqualTo(4 * MiB >> 12));
        });
    }

    [Test]
    public void WithoutMayMoveABlockedGrowIsEnomemAndUndoesTheCharge()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("app");
        p.Mmap(2 * MiB, at: At);
        p.Mmap(2 * MiB, Prot.Read, at: At + (ulong)(2 * MiB));
        long committed = k.Overcommit.CommittedAs;
        Assert.That(Fails(() => p.Mremap(At, 2 * MiB, 4 * MiB)).Errno, Is.EqualTo(Errno.ENOMEM));
        Assert.That(k.Overcommit.CommittedAs, Is.EqualTo(committed));
    }

    [Test]
    public void AMoveOfAlignedMemoryMovesWholePteTables()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("app");
        p.Mmap(8 * MiB, at: At);
        p.Touch(At, 8 * MiB, Access.Write);
        var tables = Enumerable.Range(0, 4).Select(i => p.Mm.PteTableOf(At + (ulong)(i * 2 * MiB))).ToList();
        long rss = p.Status["VmRSS"], committed = k.Overcommit.CommittedAs, pageTables = k.VmStat[VmStatItem.NR_PAGETABLE];
        Assert.That(p.Mremap(At, 8 * MiB, 8 * MiB, MremapFlags.MayMove | MremapFlags.Fixed, To), Is.EqualTo(To));
        Assert.Multiple(() =>
        {
            Assert.That(Enumerable.Range(0, 4).Select(i => p.Mm.PteTableOf(To + (ulong)(i * 2 * MiB))), Is.EqualTo(tables), "move_normal_pmd: the same tables");
            Assert.That(p.Mm.PteTableOf(At), Is.EqualTo(-1));
            Assert.That(p.Status["VmRSS"], Is.EqualTo(rss));
            Assert.That(k.Overcommit.CommittedAs, Is.EqualTo(committed), "the charge moved with the VMA");
            // The new 512G slot needs a PUD and a PMD table; the old ones are freed with the old range.
            Assert.That(k.VmStat[VmStatItem.NR_PAGETABLE], Is.EqualTo(pageTables));
            Assert.That(p.Mm.FindVma(At)!.Start, Is.Not.EqualTo(At));
        });
        p.Touch(To, 8 * MiB, Access.Read);
        Assert.That(k.RunChecks(), Is.Empty);
    }

    [Test]
    public void AnUnalignedMoveMovesEntriesIntoNewTables()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("app");
        p.Mmap(4 * MiB, at: At);
        p.Touch(At, 4 * MiB, Access.Write);
        long oldTable = p.Mm.PteTableOf(At);
        ulong to = To + 4096;
        p.Mremap(At, 4 * MiB, 4 * MiB, MremapFlags.MayMove | MremapFlags.Fixed, to);
        Assert.Multiple(() =>
        {
            Assert.That(p.Mm.PteTableOf(to), Is.Not.EqualTo(oldTable));
            Assert.That(p.Status["VmRSS"], Is.EqualTo(4 * 1024 + 4));
            Assert.That(p.Status["VmPTE"], Is.EqualTo(12 + 8 + 3 * 4), "stack tables, PUD + PMD, 3 PTE tables for 4 MiB straddling 2M");
        });
        Assert.That(k.RunChecks(), Is.Empty);
    }

    [Test]
    public void MayMoveGrowMovesToANewGap()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("app");
        ulong a = p.Mmap(2 * MiB);
        p.Mmap(2 * MiB, Prot.Read, at: a + (ulong)(2 * MiB));
        p.Touch(a, 2 * MiB, Access.Write);
        ulong moved = p.Mremap(a, 2 * MiB, 4 * MiB, MremapFlags.MayMove);
        Assert.Multiple(() =>
        {
            Assert.That(moved, Is.Not.EqualTo(a));
            Assert.That(p.Mm.FindVma(moved)!.Length, Is.EqualTo((ulong)(4 * MiB)));
            Assert.That(p.Status["VmRSS"], Is.EqualTo(2 * 1024 + 4));
        });
    }

    [Test]
    public void BadArgumentsGetTheKernelsErrnos()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("app");
        p.Mmap(4 * MiB, at: At);
        Assert.Multiple(() =>
        {
            Assert.That(Fails(() => p.Mremap(At + 1, 4096, 8192)).Errno, Is.EqualTo(Errno.EINVAL));
            Assert.That(Fails(() => p.Mremap(At, 4096, 8192, MremapFlags.Fixed, To)).Errno, Is.EqualTo(Errno.EINVAL), "FIXED needs MAYMOVE");
            Assert.That(Fails(() => p.Mremap(At, 4 * MiB, 4 * MiB, MremapFlags.MayMove | MremapFlags.Fixed, At + (ulong)MiB)).Errno, Is.EqualTo(Errno.EINVAL), "overlap");
            Assert.That(Fails(() => p.Mremap(To, 4096, 8192)).Errno, Is.EqualTo(Errno.EFAULT), "nothing mapped");
            Assert.That(Fails(() => p.Mremap(At, 8 * MiB, 16 * MiB)).Errno, Is.EqualTo(Errno.EFAULT), "across the VMA's end");
            Assert.That(Fails(() => p.Mremap(At, 4096, 0)).Errno, Is.EqualTo(Errno.EINVAL));
        });
    }
}
