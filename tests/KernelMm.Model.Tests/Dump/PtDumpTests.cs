using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Model.Tests.Dump;

public class PtDumpTests
{
    private static readonly ulong SecondGiB = KernelLayout.PAGE_OFFSET + TestKernel.GiB;

    private static string[] Lines(Kernel k) => k.DumpKernelPageTables().Text.Split('\n');

    [Test]
    public void MarkersAdvanceOnePerFlushAsTheKernelPrintsThem()
    {
        var lines = Lines(TestKernel.Boot());
        Assert.That(lines.Take(8), Is.EqualTo(new[]
        {
            "---[ User Space ]---",
            "0x0000000000000000-0xffff880000000000    16777096T                               pgd",
            "---[ Kernel Space ]---",
            "0xffff880000000000-0xffff888000000000         512G                               pgd",
            "---[ LDT remap ]---",
            "0xffff888000000000-0xffff888000001000           4K     RW                     NX pte",
            "---[ Low Kernel Mapping ]---",
            "0xffff888000001000-0xffff888000200000        2044K     RW                     NX pte",
        }));
        Assert.That(lines[^2], Is.EqualTo("0xffffffffff800000-0x0000000000000000           8M                               pmd"),
            "the final flush is at address 0, as ptdump_walk_pgd ends");
    }

    /// <summary>level3_kernel_pgt[511] -&gt; level2_fixmap_pgt, whose entries 506 and 507 hold level1_fixmap_pgt (head_64.S).</summary>
    [Test]
    public void TheFixmapTablesBringTheEndModulesAndFixmapMarkers()
    {
        var text = TestKernel.Boot().DumpKernelPageTables().Text;
        Assert.That(text, Does.Contain(
            "---[ Modules ]---\n" +
            "0xffffffffa0000000-0xffffffffff000000        1520M                               pmd\n" +
            "---[ End Modules ]---\n" +
            "0xffffffffff000000-0xffffffffff400000           4M                               pmd\n" +
            "0xffffffffff400000-0xffffffffff578000        1504K                               pte\n" +
            "---[ Fixmap Area ]---\n" +
            "0xffffffffff578000-0xffffffffff800000        2592K                               pte\n" +
            "0xffffffffff800000-0x0000000000000000           8M                               pmd\n"));
    }

    [Test]
    public void LinesHaveTheKernelLayout()
    {
        foreach (var line in Lines(TestKernel.Boot()).Where(l => l.StartsWith("0x", StringComparison.Ordinal) || l.StartsWith("...", StringComparison.Ordinal)))
        {
            if (line.StartsWith("...", StringComparison.Ordinal))
            {
                Assert.That(line, Does.Match(@"^\.\.\. [0-9]+ entr(y|ies) skipped \.\.\. $"), "note_page's text, trailing space included");
                continue;
            }
            Assert.That(line, Does.Match(@"^0x[0-9a-f]{16}-0x[0-9a-f]{16}   [ 0-9]{8}[0-9][BKMGTPE] .{30}(pgd|p4d|pud|pmd|pte)$"), line);
        }
    }

    /// <summary>
    /// A bit the dump does not print still splits a line: three 4K pages where the middle one
    /// carries the CPA test bit print as three lines that look alike.
    /// <code>
    ///   0x...000 [pte][pte*][pte] 0x...3000    * = SOFTW1 set
    /// </code>
    /// </summary>
    [Test]
    public void UnprintedFlagBitsBreakLines()
    {
        var k = TestKernel.Boot();
        k.SetMemory.FourK(SecondGiB, 512);
        k.SetMemory.Change("change_page_attr_set", SecondGiB + 4096, 1, _PAGE_CPA_TEST, 0);
        Assert.That(Lines(k).Where(l => l.StartsWith("0xffff88804000", StringComparison.Ordinal)), Is.EqualTo(new[]
        {
            "0xffff888040000000-0xffff888040001000           4K     RW                     NX pte",
            "0xffff888040001000-0xffff888040002000           4K     RW                     NX pte",
            "0xffff888040002000-0xffff888040200000        2040K     RW                     NX pte",
        }));
    }

    [Test]
    public void ALevelChangeBreaksALineWithTheSameAttributes()
    {
        var k = TestKernel.Boot();
        k.SetMemory.FourK(SecondGiB, 1);
        var lines = Lines(k);
        Assert.That(lines, Does.Contain("0xffff888040000000-0xffff888040200000           2M     RW                     NX pte"));
        Assert.That(lines, Does.Contain("0xffff888040200000-0xffff888080000000        1022M     RW         PSE         NX pmd"));
    }

    [Test]
    public void WriteableExecutableKernelMemoryFailsTheWxCheck()
    {
        var k = TestKernel.Boot();
        var area = k.Vmalloc.Vmalloc(2 * 4096);
        Assert.That(k.DumpKernelPageTables().WxPages, Is.Zero);
        k.SetMemory.Exec(area.Addr, 2);
        var dump = k.DumpKernelPageTables();
        Assert.Multiple(() =>
        {
            Assert.That(dump.WxPages, Is.EqualTo(2));
            Assert.That(dump.WxSummary, Is.EqualTo("x86/mm: Checked W+X mappings: FAILED, 2 W+X pages found."));
        });
    }

    [Test]
    public void TheDumpIsDeterministic()
    {
        string a = TestKernel.Boot().DumpKernelPageTables().Text;
        string b = TestKernel.Boot().DumpKernelPageTables().Text;
        Assert.That(a, Is.EqualTo(b));
        Assert.That(a, Does.Not.Contain("\r"));
        Assert.That(a.Split('\n').Where(l => l.EndsWith(' ')), Is.EqualTo(new[] { "... 131057 entries skipped ... " }),
            "only note_page's skipped line ends in a space, as the kernel prints it");
    }

    /// <summary>pgd[0] -&gt; pud[0] -&gt; an empty pmd table (frames 1, 2, 3) in a store of its own.</summary>
    private static (KernelMm.Model.Paging.PageTableStore Store, KernelMm.Model.Paging.PageTable Pmd) OnePmdTable()
    {
        var store = new KernelMm.Model.Paging.PageTableStore();
        var pgd = store.Create(1);
        var pud = store.Create(2);
        var pmd = store.Create(3);
        pgd[0] = (2UL << 12) | _PAGE_PRESENT | _PAGE_RW | _PAGE_USER;
        pud[0] = (3UL << 12) | _PAGE_PRESENT | _PAGE_RW | _PAGE_USER;
        return (store, pmd);
    }

    /// <summary>The dump of pgd frame 1 under a first marker of <paramref name="maxLines"/> lines, with and without the summed-up silent tables.</summary>
    private static (KernelMm.Model.Dump.PtDump Summed, KernelMm.Model.Dump.PtDump Noted) SummedAndNoted(KernelMm.Model.Paging.PageTableStore store, int maxLines)
    {
        KernelMm.Model.Dump.AddressMarker[] markers = [new(0, "Silent", maxLines), new(1UL << 63, "Kernel Space"), new(ulong.MaxValue, null)];
        return (KernelMm.Model.Dump.PtDump.Walk(store, 1, checkWx: true, markers, summarizeSilentTables: true),
            KernelMm.Model.Dump.PtDump.Walk(store, 1, checkWx: true, markers, summarizeSilentTables: false));
    }

    /// <summary>
    /// Past a marker's max_lines a PTE table prints nothing and is summed up once per dump
    /// (the ESPfix area clones one table thousands of times): the text, the skipped count and
    /// the W+X count are what noting every entry gives. Thirty-six pmd entries share six tables of
    /// random runs (none, W+X, NX, read-only, not present), one of them uniform, the last
    /// read-only then W+X, under
    /// upper-level rights that differ.
    /// <code>
    ///   pmd[0..35] -> table m % 6;  table 4 = 512 x read-only;  table 5 (the last) = 256 x read-only, 256 x W+X
    /// </code>
    /// </summary>
    [Test]
    public void SilentTablesSumUpToWhatNotingEachEntryGives()
    {
        var (store, pmd) = OnePmdTable();
        var random = new Random(7);
        ulong[] kinds = [0, _PAGE_PRESENT | _PAGE_RW, _PAGE_PRESENT | _PAGE_RW | _PAGE_NX, _PAGE_PRESENT, _PAGE_PROTNONE, _PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED];
        for (int t = 0; t < 6; t++)
        {
            var pte = store.Create(10 + t);
            for (int i = 0; i < 512;)
            {
                ulong flags = t == 5 ? (i < 256 ? kinds[3] : kinds[1]) : t == 4 ? kinds[3] : kinds[random.Next(kinds.Length)];
                for (int n = random.Next(1, 40); n > 0 && i < 512; n--, i++)
                    pte[i] = flags == 0 ? 0 : ((ulong)(0x1000 + i) << 12) | flags;
            }
        }
        for (int m = 0; m < 36; m++)
            pmd[m] = ((ulong)(10 + m % 6) << 12) | _PAGE_PRESENT | _PAGE_RW | (m % 7 == 3 ? _PAGE_NX : 0);
        var (summed, noted) = SummedAndNoted(store, maxLines: 3);
        Assert.Multiple(() =>
        {
            Assert.That(summed.SilentTables, Is.GreaterThan(30), "the tables after the first lines were summed up");
            Assert.That(noted.SilentTables, Is.Zero);
            Assert.That(summed.Text, Is.EqualTo(noted.Text));
            Assert.That(summed.WxPages, Is.EqualTo(noted.WxPages));
            Assert.That(noted.WxPages, Is.GreaterThan(512), "W+X pages in the silent part count");
            Assert.That(noted.Text, Does.Match(@"\.\.\. [0-9]+ entries skipped \.\.\. "));
        });
    }

    /// <summary>
    /// A silent table right after a W+X range open at the pmd level (2M leaves): the level
    /// differs, so the table's first entry closes that range, and its W+X pages count.
    /// <code>
    ///   pmd[0] 2M ro | pmd[1..3] 2M W+X | pmd[4..9] -> one table of W+X ptes | pmd[10..11] 2M W+X
    /// </code>
    /// </summary>
    [Test]
    public void ASilentTableAfterALargeWxRangeCountsItsPages()
    {
        var (store, pmd) = OnePmdTable();
        var pte = store.Create(10);
        for (int i = 0; i < 512; i++)
            pte[i] = ((ulong)(0x1000 + i) << 12) | _PAGE_PRESENT | _PAGE_RW;
        for (int m = 0; m < 12; m++)
            pmd[m] = m is >= 4 and < 10
                ? (10UL << 12) | _PAGE_PRESENT | _PAGE_RW
                : ((ulong)(0x40000 + m * 512) << 12) | _PAGE_PRESENT | (m == 0 ? 0 : _PAGE_RW) | _PAGE_PSE;
        var (summed, noted) = SummedAndNoted(store, maxLines: 1);
        Assert.Multiple(() =>
        {
            Assert.That(summed.SilentTables, Is.EqualTo(6));
            Assert.That(summed.Text, Is.EqualTo(noted.Text));
            Assert.That(summed.WxPages, Is.EqualTo(noted.WxPages));
            Assert.That(noted.WxPages, Is.EqualTo(11 * 512), "every page but the first 2M's is W+X");
        });
    }
}
