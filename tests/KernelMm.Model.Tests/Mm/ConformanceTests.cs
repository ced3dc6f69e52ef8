using KernelMm.Model.Mm;
using KernelMm.Model.Stats;

namespace KernelMm.Model.Tests.Mm;

/// <summary>
/// The workload of the user-address-space issue, replayed on a fresh process, with the
/// numbers a real x86-64 kernel without PT_RECLAIM reports:
/// <code>
///   0x7fc000000000                      0x7fc040000000
///   |<------------- 1 GiB, 1G-aligned ------------->|
///   write-touch  -> VmPTE +2052 kB (512 PTE tables + 1 PMD table; the PUD exists: the stack)
///   DONTNEED     -> +2052 kB (tables stay)
///   read-touch   -> +2052 kB (zero-page entries)
///   munmap       -> +0
/// </code>
/// </summary>
public class ConformanceTests
{
    private const ulong At = 0x7fc000000000;
    private const long GiB = 1L << 30;

    [TestCase(true)]
    [TestCase(false)]
    public void OneGibibyteTouchedDontneedReadAndUnmapped(bool pti)
    {
        var k = TestKernel.Boot(memory: 8L << 30, pti: pti);
        var p = k.Spawn("conformance");
        long pte0 = p.Status["VmPTE"];
        long nr0 = k.VmStat[VmStatItem.NR_PAGETABLE];

        ulong a = p.Mmap(GiB, at: At);
        Assert.That(a, Is.EqualTo(At));
        p.Touch(a, GiB, Access.Write);
        Assert.Multiple(() =>
        {
            Assert.That(p.Status["VmPTE"] - pte0, Is.EqualTo(2052));
            Assert.That(k.VmStat[VmStatItem.NR_PAGETABLE] - nr0, Is.EqualTo(513));
            Assert.That(p.Status["VmRSS"], Is.EqualTo(GiB / 1024 + 4), "1 GiB plus the stack page");
        });

        p.Madvise(a, GiB, Advice.DontNeed);
        Assert.Multiple(() =>
        {
            Assert.That(p.Status["VmPTE"] - pte0, Is.EqualTo(2052));
            Assert.That(p.Status["VmRSS"], Is.EqualTo(4));
        });

        p.Touch(a, GiB, Access.Read);
        Assert.Multiple(() =>
        {
            Assert.That(p.Status["VmPTE"] - pte0, Is.EqualTo(2052));
            Assert.That(p.Status["VmRSS"], Is.EqualTo(4), "zero-page entries are not RSS");
        });

        p.Munmap(a, GiB);
        Assert.Multiple(() =>
        {
            Assert.That(p.Status["VmPTE"], Is.EqualTo(pte0));
            Assert.That(k.VmStat[VmStatItem.NR_PAGETABLE], Is.EqualTo(nr0));
        });
    }
}
