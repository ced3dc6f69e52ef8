using KernelMm.Model.Paging;
using KernelMm.Model.Stats;

namespace KernelMm.Model.Tests.Boot;

/// <summary>
/// The direct map after boot. init_mem_mapping maps the ISA range and the head of the next
/// step with 4K pages (the legacy hole keeps [0, 2M) from a large page), the rest with 2M
/// and 1G leaves; mark_rodata_ro then makes the image's alias in the first gigabyte
/// read-only, which no longer needs a split:
/// <code>
///   0     2M        16M            34M                    1G            4G
///   | 4K  |  RW 2M  |  ro 2M (alias of text+rodata) | RW 2M |  RW 1G x3  |
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
    public void WithGbpagesTheFirst2MIs4KTheFirstGigabyte2MAndTheRest1G()
    {
        var k = TestKernel.Boot();
        Assert.That(LowKernelMapping(k), Is.EqualTo(new[]
        {
            "0xffff888000000000-0xffff888000001000           4K     RW                     NX pte",
            "0xffff888000001000-0xffff888000200000        2044K     RW                     NX pte",
            "0xffff888000200000-0xffff888001000000          14M     RW         PSE         NX pmd",
            "0xffff888001000000-0xffff888002200000          18M     ro         PSE         NX pmd",
            "0xffff888002200000-0xffff888040000000         990M     RW         PSE         NX pmd",
            "0xffff888040000000-0xffff888100000000           3G     RW         PSE         NX pud",
            "0xffff888100000000-0xffff890000000000         508G                               pud",
        }));
        Assert.Multiple(() =>
        {
            Assert.That(k.Meminfo["DirectMap4k"], Is.EqualTo(2048));
            Assert.That(k.Meminfo["DirectMap2M"], Is.EqualTo(511 * 2048));
            Assert.That(k.VmStat[VmEventItem.DIRECT_MAP_LEVEL3_SPLIT] + k.VmStat[VmEventItem.DIRECT_MAP_LEVEL2_SPLIT], Is.Zero);
        });
    }

    /// <summary>
    /// memory_map_top_down maps [4G-2M, 4G) first: adjust_range_page_size_mask gives it the
    /// whole last gigabyte as a 1G leaf. The next steps, [4G-64M, 4G-2M) and [2G, 4G-64M),
    /// find that leaf again and count it again (phys_pud_init's `if (!after_bootmem) pages++`),
    /// so DirectMap1G says 5 GiB for three 1G leaves, as real kernels over-count.
    /// </summary>
    [Test]
    public void TheTopGigabyteIsCountedOncePerStepThatReusesIt()
    {
        var k = TestKernel.Boot();
        Assert.Multiple(() =>
        {
            Assert.That(k.Meminfo["DirectMap1G"], Is.EqualTo(5L << 20));
            Assert.That(k.DirectMap.Unbacked(PageLevel.PG_LEVEL_1G), Is.EqualTo(2));
            Assert.That(k.lookup_address(KernelLayout.PAGE_OFFSET + 3 * TestKernel.GiB).Level, Is.EqualTo(PageLevel.PG_LEVEL_1G));
            Assert.That(k.RunChecks(), Is.Empty, "the DirectMap invariant allows what the kernel counts twice");
        });
    }

    [Test]
    public void ThePfnsBelowTheLegacyHoleAndAboveItAreMappedAlike()
    {
        var k = TestKernel.Boot();
        foreach (ulong phys in new ulong[] { 0, 0x9f000, 0xa0000, 0xff000, 0x100000, 0x1ff000 })
        {
            var e = k.lookup_address(KernelLayout.PAGE_OFFSET + phys);
            Assert.That(e.Level, Is.EqualTo(PageLevel.PG_LEVEL_4K), $"0x{phys:x}");
            Assert.That(PageBits.pte_pfn(k.Walker.Read(e)), Is.EqualTo((long)(phys >> 12)));
        }
    }

    [Test]
    public void WithoutGbpagesTheDirectMapIs2MLeavesAfterThe4KHeadAndNoDirectMap1GLine()
    {
        var k = TestKernel.Boot(gbpages: false);
        Assert.That(LowKernelMapping(k), Is.EqualTo(new[]
        {
            "0xffff888000000000-0xffff888000001000           4K     RW                     NX pte",
            "0xffff888000001000-0xffff888000200000        2044K     RW                     NX pte",
            "0xffff888000200000-0xffff888001000000          14M     RW         PSE         NX pmd",
            "0xffff888001000000-0xffff888002200000          18M     ro         PSE         NX pmd",
            "0xffff888002200000-0xffff888100000000        4062M     RW         PSE         NX pmd",
            "0xffff888100000000-0xffff890000000000         508G                               pud",
        }));
        Assert.That(k.Meminfo.Render(), Does.Contain("DirectMap4k:        2048 kB\nDirectMap2M:     4192256 kB\n"));
        Assert.That(k.Meminfo.Render(), Does.Not.Contain("DirectMap1G"));
        Assert.That(k.DirectMap.Unbacked(PageLevel.PG_LEVEL_2M), Is.Zero, "2M steps never overlap");
    }

    [Test]
    public void WithoutPtiKernelMappingsAreGlobal()
    {
        var k = TestKernel.Boot(pti: false);
        Assert.That(LowKernelMapping(k)[2], Is.EqualTo("0xffff888000200000-0xffff888001000000          14M     RW         PSE     GLB NX pmd"));
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
            // Allocated since boot: 64 preallocated vmalloc PUD tables, ESPfix's PMD and PTE
            // tables and stack page, CPU 1's idle stack (4 pages) and, with KAISER, its shadow tables.
            long kaiser = k.Kaiser?.TablesInstalled ?? 0;
            Assert.That(k.VmStat[VmStatItem.NR_FREE_PAGES], Is.EqualTo(managed - 64 - 3 - 4 - kaiser));
            Assert.That(k.VmStat[VmStatItem.NR_KERNEL_STACK_KB], Is.EqualTo(16));
        });
    }

    [Test]
    public void OneTebibyteBoots()
    {
        var k = TestKernel.Boot(memory: 1L << 40);
        // 1023 1G leaves, the top one counted three times (see TheTopGigabyteIsCountedOncePerStepThatReusesIt).
        Assert.That(k.Meminfo["DirectMap1G"], Is.EqualTo(1025L << 20));
        Assert.That(k.RunChecks(), Is.Empty);
        Assert.That(k.lookup_address(KernelLayout.PAGE_OFFSET + (1UL << 40) - 4096).Level, Is.EqualTo(PageLevel.PG_LEVEL_1G));
    }
}
