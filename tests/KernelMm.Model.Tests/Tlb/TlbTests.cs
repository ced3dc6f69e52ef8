using KernelMm.Model.Tlb;

namespace KernelMm.Model.Tests.Tlb;

public class TlbTests
{
    private static readonly ulong Va = KernelLayout.PAGE_OFFSET + TestKernel.GiB + 0x3000;

    [Test]
    public void AnAccessCachesTheTranslation()
    {
        var k = TestKernel.Boot();
        Assert.That(k.Access(0, Va), Is.True);
        Assert.That(k.Tlbs.Cpus[0].Lookup(Va), Is.Not.Null);
        Assert.That(k.Tlbs.Cpus[1].Lookup(Va), Is.Null);
    }

    [Test]
    public void ATranslationChangedWithoutAFlushIsStale()
    {
        var k = TestKernel.Boot();
        k.SetMemory.FourK(Va, 1);
        k.Access(1, Va);
        // Change the entry behind the CPU's back, as a missing flush would.
        var e = k.lookup_address(Va);
        k.Walker.Write(e, k.Walker.Read(e) & ~Model.Paging.PageBits._PAGE_RW);
        int findings = k.Tlbs.CheckCoherence(k.Walker, k.InitTopPgt, k.Log, "test");
        Assert.Multiple(() =>
        {
            Assert.That(findings, Is.EqualTo(1));
            Assert.That(k.Log.Warnings.Single().Kind, Is.EqualTo("stale-tlb"));
            Assert.That(k.Log.Warnings.Single().Message, Does.Contain("CPU 1 holds a stale translation of 0xffff888040003000"));
            Assert.That(k.Access(1, Va, AccessKind.Write), Is.True, "the stale entry still allows the write");
        });
        k.Tlbs.flush_tlb_one_kernel(Va);
        Assert.Multiple(() =>
        {
            Assert.That(k.Tlbs.CheckCoherence(k.Walker, k.InitTopPgt, k.Log, "after flush"), Is.Zero);
            Assert.That(k.Access(1, Va, AccessKind.Write), Is.False, "after the flush the write faults");
            Assert.That(k.Log.Warnings[^1].Message, Does.Contain("permissions violation"));
        });
    }

    [Test]
    public void CpaFlushesWhatItChanges()
    {
        var k = TestKernel.Boot();
        k.Access(0, Va);
        k.Access(1, Va + 0x200000);
        k.SetMemory.ReadOnly(Va, 1);
        Assert.Multiple(() =>
        {
            Assert.That(k.Tlbs.CheckCoherence(k.Walker, k.InitTopPgt, k.Log, "after cpa"), Is.Zero);
            Assert.That(k.Tlbs.Cpus[0].Lookup(Va), Is.Null);
            Assert.That(k.Access(0, Va, AccessKind.Write), Is.False);
        });
    }

    [Test]
    public void ALargeTranslationStaysValidAcrossASplitThatKeptAttributes()
    {
        var k = TestKernel.Boot();
        k.Access(0, Va);
        var e = k.Tlbs.Cpus[0].Lookup(Va)!.Value;
        Assert.That(e.Translation.Level, Is.EqualTo(Model.Paging.PageLevel.PG_LEVEL_1G));
        k.Tlbs.Cpus[0].Fill(e.Translation); // keep it across the split's flush below
        k.SetMemory.FourK(Va, 1);
        k.Tlbs.Cpus[0].Fill(e.Translation);
        Assert.That(k.Tlbs.CheckCoherence(k.Walker, k.InitTopPgt, k.Log, "split"), Is.Zero);
    }

    [Test]
    public void TwoSizesWithDifferentAttributesForOneAddressAreReported()
    {
        var k = TestKernel.Boot();
        k.Access(0, Va);
        var large = k.Tlbs.Cpus[0].Lookup(Va)!.Value.Translation;
        k.SetMemory.ReadOnly(Va, 1);
        k.Access(0, Va);
        k.Tlbs.Cpus[0].Fill(large); // a 1G entry that survived, next to the new read-only 4K one
        k.Tlbs.CheckCoherence(k.Walker, k.InitTopPgt, k.Log, "multimatch");
        Assert.That(k.Log.Warnings.Select(w => w.Kind), Does.Contain("tlb-multimatch"));
        Assert.That(k.Log.Warnings.Select(w => w.Kind), Does.Contain("stale-tlb"));
    }

    [Test]
    public void CapacityEvictsOldestFirst()
    {
        var t = new CpuTlb(0, capacity: 2);
        for (ulong i = 0; i < 3; i++)
            t.Fill(new Model.Paging.Translation(i << 12, Model.Paging.PageLevel.PG_LEVEL_4K, (long)i, 1));
        Assert.Multiple(() =>
        {
            Assert.That(t.Count, Is.EqualTo(2));
            Assert.That(t.Lookup(0), Is.Null);
            Assert.That(t.Lookup(2 << 12), Is.Not.Null);
        });
    }
}
