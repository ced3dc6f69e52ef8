using KernelMm.Model.Stats;

namespace KernelMm.Model.Tests.Stats;

public class VmStatTests
{
    [Test]
    public void NamesAndItemsStayInLockstep()
    {
        Assert.That(VmStat.NamesInLockstep(out string why), Is.True, why);
    }

    [Test]
    public void CountersPrintInKernelOrderThenEvents()
    {
        var names = new VmStat().Lines().Select(l => l.Name).ToArray();
        Assert.That(names, Is.EqualTo(new[]
        {
            "nr_free_pages", "nr_page_table_pages", "nr_kernel_stack", "nr_bounce", "nr_anon_pages",
            "pgalloc_dma", "pgalloc_dma32", "pgalloc_normal", "pgfree", "pglazyfree", "pgfault", "pglazyfreed",
            "direct_map_level2_splits", "direct_map_level3_splits",
        }));
    }

    [Test]
    public void ARegisteredCounterIsInsertedAfterItsAnchor()
    {
        var v = new VmStat();
        int h = v.RegisterCounter("nr_example", after: "nr_kernel_stack");
        v.ModExtra(h, 256);
        var lines = v.Render().Split('\n');
        Assert.Multiple(() =>
        {
            Assert.That(lines[2], Is.EqualTo("nr_kernel_stack 0"));
            Assert.That(lines[3], Is.EqualTo("nr_example 256"));
            Assert.That(lines[4], Is.EqualTo("nr_bounce 0"));
            Assert.That(v["nr_example"], Is.EqualTo(256));
            Assert.Throws<ArgumentException>(() => v.RegisterCounter("nr_x", after: "nr_missing"));
            Assert.Throws<KeyNotFoundException>(() => _ = new VmStat()["nr_example"]);
        });
    }

    [Test]
    public void ARegisteredEventFollowsItsAnchorAmongTheEvents()
    {
        var v = new VmStat();
        int h = v.RegisterEvent("direct_map_level2_collapses", after: "direct_map_level3_splits");
        v.ModExtra(h, 3);
        var names = v.Lines().Select(l => l.Name).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(names[^1], Is.EqualTo("direct_map_level2_collapses"));
            Assert.That(names[^2], Is.EqualTo("direct_map_level3_splits"));
            Assert.That(v["direct_map_level2_collapses"], Is.EqualTo(3));
            Assert.That(v.IsEvent("direct_map_level2_collapses") && v.IsEvent("pgfree"), Is.True);
            Assert.That(v.IsEvent("nr_free_pages"), Is.False);
            Assert.Throws<ArgumentException>(() => v.RegisterEvent("x", after: "nr_kernel_stack"), "a counter is no anchor for an event");
            Assert.Throws<ArgumentException>(() => v.RegisterEvent("direct_map_level2_collapses", after: "pgfree"));
        });
    }

    [Test]
    public void MeminfoLinesHaveTheKernelWidths()
    {
        var k = TestKernel.Boot();
        var lines = k.Meminfo.Render().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Does.Match(@"^MemTotal:\s+\d+ kB$"));
        Assert.That(lines, Does.Contain("VmallocTotal:   34359738367 kB"));
        Assert.That(lines.Select(l => l[..l.IndexOf(':')]), Is.EqualTo(new[]
        {
            "MemTotal", "MemFree", "AnonPages", "KernelStack", "PageTables", "CommitLimit", "Committed_AS", "VmallocTotal", "VmallocUsed", "DirectMap4k", "DirectMap2M", "DirectMap1G",
        }));
    }

    [Test]
    public void KernelPmdTablesAreCountedAsPageTables()
    {
        var k = TestKernel.Boot();
        long before = k.VmStat[VmStatItem.NR_PAGETABLE];
        k.Vmalloc.Vmalloc(4096);
        Assert.That(k.VmStat[VmStatItem.NR_PAGETABLE] - before, Is.EqualTo(1), "pmd_alloc_one runs the ctor; the PTE page of init_mm is not counted");
    }
}
