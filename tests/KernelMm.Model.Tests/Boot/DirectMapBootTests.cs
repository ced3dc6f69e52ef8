using KernelMm.Model.Paging;
using KernelMm.Model.Stats;

namespace KernelMm.Model.Tests.Boot;

/// <summary>
/// The direct map after boot. mark_rodata_ro makes the image's text and rodata read-only
/// and its direct-map alias too, which splits the first gigabyte into 2M pages:
/// <code>
///   0        16M            34M                    1G            4G
///   |  RW 2M  |  ro 2M (alias of text+rodata) | RW 2M |  RW 1G x3  |
/// </code>
/// </summary>
public class DirectMapBootTests
{
    private static string[] LowKernelMapping(Kernel k)
    {
        var lines = k.DumpKernelPageTables().Text.Split('\n');
        return [.. lines.Where(l => l.StartsWith("0xffff888", StringComparison.Ordinal))];
    }

    [Test]
    public void WithGbpagesTheDirectMapIs1GLeavesExceptTheSplitFirstGigabyte()
    {
        var k = TestKernel.Boot();
        Assert.That(LowKernelMapping(k), Is.EqualTo(new[]
        {
            "0xffff888000000000-0xffff888000200000           2M     RW         PSE         NX pmd",
            "0xffff888000200000-0xffff888001000000          14M     RW         PSE         NX pmd",
            "0xffff888001000000-0xffff888002200000          18M     ro         PSE         NX pmd",
            "0xffff888002200000-0xffff888040000000         990M     RW         PSE         NX pmd",
            "0xffff888040000000-0xffff888100000000           3G     RW         PSE         NX pud",
            "0xffff888100000000-0xffff890000000000         508G                               pud",
        }));
        Assert.Multiple(() =>
        {
            Assert.That(k.Meminfo["DirectMap4k"], Is.EqualTo(0));
            Assert.That(k.Meminfo["DirectMap2M"], Is.EqualTo(1048576));
            Assert.That(k.Meminfo["DirectMap1G"], Is.EqualTo(3145728));
            Assert.That(k.VmStat[VmEventItem.DIRECT_MAP_LEVEL3_SPLIT], Is.Zero, "boot-time splits are not counted as events");
        });
    }

    [Test]
    public void WithoutGbpagesTheDirectMapIs2MLeavesAndNoDirectMap1GLine()
    {
        var k = TestKernel.Boot(gbpages: false);
        Assert.That(LowKernelMapping(k), Is.EqualTo(new[]
        {
            "0xffff888000000000-0xffff888000200000           2M     RW         PSE         NX pmd",
            "0xffff888000200000-0xffff888001000000          14M     RW         PSE         NX pmd",
            "0xffff888001000000-0xffff888002200000          18M     ro         PSE         NX pmd",
            "0xffff888002200000-0xffff888100000000        4062M     RW         PSE         NX pmd",
            "0xffff888100000000-0xffff890000000000         508G                               pud",
        }));
        Assert.That(k.Meminfo.Render(), Does.Contain("DirectMap2M:     4194304 kB\n"));
        Assert.That(k.Meminfo.Render(), Does.Not.Contain("DirectMap1G"));
    }

    [Test]
    public void WithoutPtiKernelMappingsAreGlobal()
    {
        var k = TestKernel.Boot(pti: false);
        Assert.That(LowKernelMapping(k)[0], Is.EqualTo("0xffff888000000000-0xffff888000200000           2M     RW         PSE     GLB NX pmd"));
    }

    [Test]
    public void TheHighKernelMappingIsTextRoXRodataRoNxDataRwNx()
    {
        var k = TestKernel.Boot();
        var text = k.DumpKernelPageTables().Text;
        Assert.That(text, Does.Contain(
            "---[ High Kernel Mapping ]---\n" +
            "0xffffffff80000000-0xffffffff81000000          16M                               pmd\n" +
            "0xffffffff81000000-0xffffffff81c00000          12M     ro         PSE         x  pmd\n" +
            "0xffffffff81c00000-0xffffffff82200000           6M     ro         PSE         NX pmd\n" +
            "0xffffffff82200000-0xffffffff82a00000           8M     RW         PSE         NX pmd\n"));
        Assert.That(k.DumpKernelPageTables().WxPages, Is.Zero);
    }

    [TestCase(true)]
    [TestCase(false)]
    public void MemoryIsAccountedForAtBoot(bool pti)
    {
        var k = TestKernel.Boot(pti: pti);
        long managed = k.Zones.Sum(z => z.ManagedPages);
        Assert.Multiple(() =>
        {
            Assert.That(managed + k.ReservedPages, Is.EqualTo(k.Frames.MaxPfn));
            Assert.That(k.Meminfo["MemTotal"], Is.EqualTo(managed * 4));
            // Allocated since boot: 64 preallocated vmalloc PUD tables, the CPA split table,
            // CPU 1's idle stack (4 pages) and, with KAISER, its shadow tables.
            long kaiser = k.Kaiser?.TablesInstalled ?? 0;
            Assert.That(k.VmStat[VmStatItem.NR_FREE_PAGES], Is.EqualTo(managed - 64 - 1 - 4 - kaiser));
            Assert.That(k.VmStat[VmStatItem.NR_KERNEL_STACK_KB], Is.EqualTo(16));
        });
    }

    [Test]
    public void OneTebibyteBoots()
    {
        var k = TestKernel.Boot(memory: 1L << 40);
        Assert.That(k.Meminfo["DirectMap1G"], Is.EqualTo(1023L << 20));
        Assert.That(k.lookup_address(KernelLayout.PAGE_OFFSET + (1UL << 40) - 4096).Level, Is.EqualTo(PageLevel.PG_LEVEL_1G));
    }
}
