using KernelMm.Model.Mm;
using KernelMm.Model.Stats;

namespace KernelMm.Model.Tests.Mm;

/// <summary>mmap's MAP_FIXED_NOREPLACE, MAP_POPULATE and MAP_LOCKED.</summary>
public class MapFlagsTests
{
    private const long MiB = 1L << 20;
    private const ulong At = 0x200000000000;

    [Test]
    public void FixedNoReplaceFailsWithEexistOverAMappingAndMapsAFreeRange()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("app");
        p.Mmap(4 * MiB, at: At);
        Assert.That(() => p.Mmap(MiB, at: At + (ulong)(3 * MiB), flags: MapFlags.FixedNoReplace),
            Throws.TypeOf<KernelErrnoException>().With.Property("Errno").EqualTo(Errno.EEXIST));
        Assert.That(p.Mmap(MiB, at: At + (ulong)(4 * MiB), flags: MapFlags.FixedNoReplace), Is.EqualTo(At + (ulong)(4 * MiB)));
        Assert.That(p.Mmap(MiB, at: At, flags: MapFlags.None), Is.EqualTo(At), "plain at: replaces");
    }

    [Test]
    public void PopulateWriteFaultsAPrivateWritableMapping()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("app");
        long rss = p.Status["VmRSS"], faults = k.VmStat[VmEventItem.PGFAULT];
        p.Mmap(4 * MiB, flags: MapFlags.Populate);
        Assert.Multiple(() =>
        {
            Assert.That(p.Status["VmRSS"] - rss, Is.EqualTo(4096));
            Assert.That(k.VmStat[VmEventItem.PGFAULT] - faults, Is.EqualTo(1024));
        });
    }

    [Test]
    public void PopulateReadFaultsAReadOnlyMappingToTheZeroPage()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("app");
        long rss = p.Status["VmRSS"], pte = p.Status["VmPTE"];
        p.Mmap(2 * MiB, Prot.Read, at: At, flags: MapFlags.Populate);
        Assert.Multiple(() =>
        {
            Assert.That(p.Status["VmRSS"], Is.EqualTo(rss), "the zero page is not RSS");
            Assert.That(p.Status["VmPTE"] - pte, Is.EqualTo(12), "but the tables exist");
        });
    }

    [Test]
    public void UnknownFlagsAreEinval()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("app");
        Assert.That(() => p.Mmap(MiB, flags: (MapFlags)0x40), Throws.TypeOf<KernelErrnoException>().With.Property("Errno").EqualTo(Errno.EINVAL));
        Assert.That(() => p.Mmap(MiB, flags: MapFlags.FixedNoReplace), Throws.TypeOf<KernelErrnoException>().With.Property("Errno").EqualTo(Errno.EINVAL));
    }
}
