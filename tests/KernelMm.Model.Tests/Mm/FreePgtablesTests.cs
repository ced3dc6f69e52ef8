using KernelMm.Model.Mm;

namespace KernelMm.Model.Tests.Mm;

/// <summary>
/// free_pgtables / free_pgd_range after munmap: a table goes only when no VMA left can
/// need it, at each level, whichever side the neighbour is on. VmPTE counts 4 kB a table
/// (PTE, PMD and PUD), so its change names the levels freed.
/// </summary>
public class FreePgtablesTests
{
    private const ulong At = 0x200000000000; // alone in its pgd slot
    private const ulong MiB = 1UL << 20, GiB = 1UL << 30;

    private static (Kernel K, Process P) Boot()
    {
        var k = TestKernel.Boot();
        return (k, k.Spawn("tables"));
    }

    private static void MapAndTouch(Process p, ulong at, long length = 4096)
    {
        p.Mmap(length, at: at);
        p.Touch(at, length, Access.Write);
    }

    [TestCase(16 * 4096UL, 0L, 12L, TestName = "A neighbour above in the same 2M keeps the PTE table")]
    [TestCase(2 * MiB, 4L, 16L, TestName = "A neighbour above in the same 1G keeps the PMD table")]
    [TestCase(GiB, 8L, 20L, TestName = "A neighbour above in the same 512G keeps the PUD table")]
    public void ANeighbourAboveKeepsTheTablesItShares(ulong apart, long firstFreedKb, long allFreedKb)
    {
        var (k, p) = Boot();
        MapAndTouch(p, At);
        MapAndTouch(p, At + apart);
        long vmpte = p.Status["VmPTE"];
        p.Munmap(At, 4096); // free_pgd_range's ceiling is the next VMA's start
        Assert.That(vmpte - p.Status["VmPTE"], Is.EqualTo(firstFreedKb), "what the neighbour does not share");
        p.Munmap(At + apart, 4096);
        Assert.Multiple(() =>
        {
            Assert.That(vmpte - p.Status["VmPTE"], Is.EqualTo(allFreedKb), "the rest with the last VMA");
            Assert.That(k.RunChecks(), Is.Empty);
        });
    }

    [Test]
    public void ANeighbourBelowKeepsTheTablesItSharesAtEachLevel()
    {
        var (k, p) = Boot();
        MapAndTouch(p, At);
        MapAndTouch(p, At + 16 * 4096);
        MapAndTouch(p, At + 2 * MiB);
        MapAndTouch(p, At + GiB);
        long vmpte = p.Status["VmPTE"];
        Assert.That(vmpte, Is.GreaterThanOrEqualTo(4 * 5), "a PUD, two PMDs, three PTE tables");
        // Top down: each munmap's floor is the previous VMA's end.
        p.Munmap(At + GiB, 4096);
        Assert.That(vmpte - p.Status["VmPTE"], Is.EqualTo(8), "its PTE and PMD tables; the PUD is shared");
        p.Munmap(At + 2 * MiB, 4096);
        Assert.That(vmpte - p.Status["VmPTE"], Is.EqualTo(12), "its PTE table; the PMD is shared");
        p.Munmap(At + 16 * 4096, 4096);
        Assert.That(vmpte - p.Status["VmPTE"], Is.EqualTo(12), "nothing: the PTE table is shared");
        p.Munmap(At, 4096);
        Assert.Multiple(() =>
        {
            Assert.That(vmpte - p.Status["VmPTE"], Is.EqualTo(24), "the last one frees the PTE, PMD and PUD tables");
            Assert.That(p.Mm.PteTableOf(At), Is.EqualTo(-1));
            Assert.That(k.RunChecks(), Is.Empty);
        });
    }

    /// <summary>One munmap over VMAs with holes between them (within a PMD, so free_pgtables joins them): every table of the range goes, none entries skipped.</summary>
    [Test]
    public void OneMunmapOverSeveralVmasFreesEveryTableOfTheRange()
    {
        var (k, p) = Boot();
        MapAndTouch(p, At);
        MapAndTouch(p, At + MiB);
        MapAndTouch(p, At + 4 * MiB); // the PMD entry between is none
        long vmpte = p.Status["VmPTE"];
        var freed = new List<long>();
        k.Buddy.FreePagesPrepareHook = (pfn, order) => freed.Add(pfn);
        p.Munmap(At, (long)(6 * MiB));
        Assert.Multiple(() =>
        {
            Assert.That(vmpte - p.Status["VmPTE"], Is.EqualTo(16), "two PTE tables, the PMD and the PUD");
            Assert.That(freed, Has.Count.EqualTo(3 + 4), "three pages, four tables");
            Assert.That(p.Mm.PteTableOf(At + 4 * MiB), Is.EqualTo(-1));
            Assert.That(k.RunChecks(), Is.Empty);
        });
    }

    /// <summary>Part of a VMA unmapped: the rest keeps its tables; unmapping the rest frees them.</summary>
    [Test]
    public void UnmappingPartOfAVmaKeepsTheTablesTheRestUses()
    {
        var (k, p) = Boot();
        MapAndTouch(p, At, (long)(4 * MiB));
        long vmpte = p.Status["VmPTE"];
        p.Munmap(At, (long)(2 * MiB));
        Assert.That(vmpte - p.Status["VmPTE"], Is.EqualTo(4), "the first 2M's PTE table only");
        p.Munmap(At + 2 * MiB + 4096, 4096);
        Assert.That(vmpte - p.Status["VmPTE"], Is.EqualTo(4), "a hole in the middle of a table frees nothing");
        p.Munmap(At + 2 * MiB, (long)(2 * MiB));
        Assert.Multiple(() =>
        {
            Assert.That(vmpte - p.Status["VmPTE"], Is.EqualTo(16));
            Assert.That(k.RunChecks(), Is.Empty);
        });
    }
}
