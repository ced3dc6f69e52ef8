using KernelMm.Model.Mm;

namespace KernelMm.Model.Tests.Mm;

/// <summary>mlock and munlock (mm/mlock.c, 5.x): VM_LOCKED, locked_vm as VmLck, population.</summary>
public class MlockTests
{
    private const long MiB = 1L << 20;
    private const ulong At = 0x200000000000;

    [Test]
    public void MlockCountsVmLckAndFaultsTheRangeIn()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("db");
        p.Mmap(8 * MiB, at: At);
        p.Mlock(At + (ulong)MiB, 2 * MiB);
        Assert.Multiple(() =>
        {
            Assert.That(p.Status["VmLck"], Is.EqualTo(2048));
            Assert.That(p.Status["VmRSS"], Is.EqualTo(2048 + 4));
            Assert.That(p.Mm.Vmas.Count(v => (v.Flags & VmFlags.VM_LOCKED) != 0), Is.EqualTo(1));
            Assert.That(p.Mm.Vmas, Has.Count.EqualTo(4), "split around the locked part, and the stack");
        });
        p.Mlock(At, 4 * MiB);
        Assert.That(p.Status["VmLck"], Is.EqualTo(4096), "the part locked already is not counted twice");
        p.Munlock(At, 8 * MiB);
        Assert.Multiple(() =>
        {
            Assert.That(p.Status["VmLck"], Is.EqualTo(0));
            Assert.That(p.Mm.Vmas, Has.Count.EqualTo(2), "merged again");
            Assert.That(p.Status["VmRSS"], Is.EqualTo(4096 + 4), "munlock leaves the pages");
        });
    }

    [Test]
    public void MunmapAndExitDropLockedVm()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("db");
        p.Mmap(4 * MiB, at: At, flags: MapFlags.Locked);
        Assert.That(p.Status["VmLck"], Is.EqualTo(4096), "MAP_LOCKED");
        Assert.That(p.Status["VmRSS"], Is.EqualTo(4096 + 4), "and populated");
        p.Munmap(At, 2 * MiB);
        Assert.That(p.Status["VmLck"], Is.EqualTo(2048));
    }

    [Test]
    public void AHoleIsEnomemAfterLockingWhatCameBefore()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("db");
        p.Mmap(2 * MiB, at: At);
        p.Mmap(2 * MiB, at: At + (ulong)(4 * MiB));
        var e = Assert.Throws<KernelErrnoException>(() => p.Mlock(At, 6 * MiB))!;
        Assert.Multiple(() =>
        {
            Assert.That(e.Errno, Is.EqualTo(Errno.ENOMEM));
            Assert.That(p.Status["VmLck"], Is.EqualTo(2048));
        });
        Assert.That(Assert.Throws<KernelErrnoException>(() => p.Mlock(At - 4096, 4096))!.Errno, Is.EqualTo(Errno.ENOMEM));
    }

    [Test]
    public void AnUnalignedStartIsRoundedDown()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("db");
        p.Mmap(2 * MiB, at: At);
        p.Mlock(At + 100, 4096);
        Assert.That(p.Status["VmLck"], Is.EqualTo(8), "two pages: [At, At + 4196) rounded out");
    }
}
