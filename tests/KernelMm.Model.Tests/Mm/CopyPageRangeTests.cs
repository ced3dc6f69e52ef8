using KernelMm.Model.Mm;

namespace KernelMm.Model.Tests.Mm;

/// <summary>
/// fork's copy_page_range allocates the child's table at each level before it looks at the
/// parent's entries (mm/memory.c, 5.x: copy_pmd_range's pmd_alloc, copy_pte_range's
/// pte_alloc_map_lock), so the child gets every table the parent has in an anonymous VMA,
/// empty ones included.
/// </summary>
public class CopyPageRangeTests
{
    private const long MiB = 1L << 20;

    [Test]
    public void ForkAfterDontneedCopiesTheEmptyPteTables()
    {
        var k = TestKernel.Boot();
        var parent = k.Spawn("parent");
        ulong a = parent.Mmap(8 * MiB, at: 0x40000000);
        parent.Touch(a, 8 * MiB, Access.Write);
        parent.Madvise(a, 8 * MiB, Advice.DontNeed);
        var child = parent.Fork("child");
        Assert.Multiple(() =>
        {
            // Stack: PUD + PMD + PTE; the 8 MiB at 1 GiB (pgd slot 0): PUD + PMD + 4 empty PTE tables.
            Assert.That(parent.Status["VmPTE"], Is.EqualTo(36));
            Assert.That(child.Status["VmPTE"], Is.EqualTo(36), "the four empty PTE tables and their PMD and PUD tables are copied");
            Assert.That(child.Status["VmRSS"], Is.EqualTo(4), "only the stack page is mapped");
        });
    }

    [Test]
    public void ForkAfterMunmapCopiesThePteTableTheNeighbourKept()
    {
        var k = TestKernel.Boot();
        var parent = k.Spawn("parent");
        ulong a = parent.Mmap(2 * MiB, at: 0x40000000);
        parent.Touch(a, MiB, Access.Write);
        // The VMA that stays keeps the PTE table (free_pgtables' ceiling) and the anon_vma;
        // every entry it has left is none.
        parent.Munmap(a, MiB);
        long before = parent.Status["VmPTE"];
        var child = parent.Fork("child");
        Assert.Multiple(() =>
        {
            Assert.That(before, Is.EqualTo(24), "stack PUD + PMD + PTE, and PUD + PMD + the empty PTE table");
            Assert.That(child.Status["VmPTE"], Is.EqualTo(24));
        });
    }

    [Test]
    public void AVmaWithoutAnonVmaIsNotCopied()
    {
        var k = TestKernel.Boot();
        var parent = k.Spawn("parent");
        ulong a = parent.Mmap(2 * MiB, at: 0x40000000);
        parent.Touch(a, 2 * MiB, Access.Read); // zero page only: no anon_vma
        var child = parent.Fork("child");
        Assert.That(child.Status["VmPTE"], Is.EqualTo(12), "only the stack's tables: a fault fills the rest");
    }
}
