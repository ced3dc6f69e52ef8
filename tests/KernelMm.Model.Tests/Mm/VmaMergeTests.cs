using KernelMm.Model.Mm;

namespace KernelMm.Model.Tests.Mm;

/// <summary>vma_merge (mm/mmap.c, 5.x): the predecessor is tried first.</summary>
public class VmaMergeTests
{
    [Test]
    public void ANewMappingBetweenTwoAnonymousVmasJoinsThePreviousOne()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("merge");
        const ulong a = 0x40000000;
        p.Mmap(4096, at: a);
        p.Mmap(4096, at: a + 2 * 4096);
        p.Touch(a, 4096, Access.Write);            // each gets its own anon_vma
        p.Touch(a + 2 * 4096, 4096, Access.Write);
        p.Mmap(4096, at: a + 4096);                 // fills the hole
        var vmas = p.Mm.Vmas.Where(v => v.Start < 0x7f0000000000).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(vmas.Select(v => (v.Start, v.End)), Is.EqualTo(new[] { (a, a + 2 * 4096), (a + 2 * 4096, a + 3 * 4096) }),
                "prev and next have different anon_vmas: only the predecessor takes the range");
        });
    }

    [Test]
    public void WithoutAnAnonVmaBetweenThemAllThreeBecomeOne()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("merge");
        const ulong a = 0x40000000;
        p.Mmap(4096, at: a);
        p.Mmap(4096, at: a + 2 * 4096);
        p.Touch(a, 4096, Access.Write);
        p.Mmap(4096, at: a + 4096);
        var vmas = p.Mm.Vmas.Where(v => v.Start < 0x7f0000000000).ToList();
        Assert.That(vmas.Select(v => (v.Start, v.End)), Is.EqualTo(new[] { (a, a + 3 * 4096) }));
    }
}
