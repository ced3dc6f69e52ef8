using KernelMm.Model.Memory;

namespace KernelMm.Model.Tests.Memory;

/// <summary>The scenario's alloc_pages blocks, by first pfn: set, replaced, removed, listed in pfn order.</summary>
public class PfnOrderMapTests
{
    [Test]
    public void BlocksComeBackInPfnOrderWithTheirOrders()
    {
        var map = new PfnOrderMap();
        map.Set(5000, 2);
        map.Set(7, 0);
        map.Set(1L << 30, 10); // far past the first chunks: the directory grows
        map.Set(1024, 1);
        Assert.Multiple(() =>
        {
            Assert.That(map.Blocks(), Is.EqualTo(new[] { (7L, 0), (1024L, 1), (5000L, 2), (1L << 30, 10) }));
            Assert.That(map.Count, Is.EqualTo(4));
            Assert.That(map.OrderOf(5000), Is.EqualTo(2));
            Assert.That(map.OrderOf(5001), Is.EqualTo(-1));
        });
    }

    [Test]
    public void SettingAgainReplacesAndRemovingForgets()
    {
        var map = new PfnOrderMap();
        map.Set(64, 0);
        map.Set(64, 3);
        Assert.Multiple(() =>
        {
            Assert.That(map.Count, Is.EqualTo(1));
            Assert.That(map.OrderOf(64), Is.EqualTo(3));
            Assert.That(map.Remove(64), Is.True);
            Assert.That(map.Remove(64), Is.False, "nothing left to remove");
            Assert.That(map.Remove(-1), Is.False);
            Assert.That(map.Remove(1L << 40), Is.False, "beyond the directory");
            Assert.That(map.Count, Is.EqualTo(0));
            Assert.That(map.Blocks(), Is.Empty);
        });
    }

    [Test]
    public void OrderZeroIsHeldNotMistakenForNone()
    {
        var map = new PfnOrderMap();
        map.Set(0, 0);
        Assert.That(map.Blocks(), Is.EqualTo(new[] { (0L, 0) }));
    }

    [Test]
    public void BadArgumentsAreRefused()
    {
        var map = new PfnOrderMap();
        Assert.Multiple(() =>
        {
            Assert.Throws<ArgumentOutOfRangeException>(() => map.Set(-1, 0));
            Assert.Throws<ArgumentOutOfRangeException>(() => map.Set(0, PageFrames.MAX_ORDER + 1));
        });
    }
}
