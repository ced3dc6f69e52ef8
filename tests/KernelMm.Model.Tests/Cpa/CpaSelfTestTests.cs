using KernelMm.Model.Cpa;

namespace KernelMm.Model.Tests.Cpa;

/// <summary>The port of arch/x86/mm/pat/cpa-test.c, with fixed seeds.</summary>
public class CpaSelfTestTests
{
    [TestCase(1, true)]
    [TestCase(20260101, true)]
    [TestCase(7, false)]
    public void PageattrTestPasses(int seed, bool gbpages)
    {
        var k = TestKernel.Boot(gbpages: gbpages);
        var t = new CpaSelfTest(k, seed);
        bool ok = t.Run();
        Assert.That(ok, Is.True, string.Join("\n", t.Messages));
        Assert.Multiple(() =>
        {
            Assert.That(t.AfterSet.Spg, Is.GreaterThan(t.Before.Spg), "the test bit split pages to 4K");
            Assert.That(t.AfterClear.Spg, Is.EqualTo(t.AfterSet.Spg), "clearing the bit does not restore large pages");
            Assert.That(t.Messages[^1], Is.EqualTo("ok."));
            Assert.That(k.Log.Warnings, Is.Empty);
        });
    }

    [Test]
    public void PrintSplitFailsWhenThe2MLevelHasNoPse()
    {
        var k = TestKernel.Boot();
        // Corrupt one 2M leaf of the first gigabyte: present but without PSE.
        var e = k.lookup_address(KernelLayout.PAGE_OFFSET + 64 * TestKernel.MiB);
        k.Walker.Write(e, k.Walker.Read(e) & ~Model.Paging.PageBits._PAGE_PSE);
        var t = new CpaSelfTest(k, 1);
        // The corrupt entry now reads as a table pointer; the walk must not report success.
        bool ok;
        try
        {
            ok = t.Run();
        }
        catch (InvalidOperationException)
        {
            ok = false;
        }
        Assert.That(ok, Is.False);
    }
}
