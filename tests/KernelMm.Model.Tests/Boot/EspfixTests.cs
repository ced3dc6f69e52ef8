using KernelMm.Model.Boot;
using KernelMm.Model.Paging;
using KernelMm.Model.Memory;
using KernelMm.Model.Stats;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Tests.Boot;

/// <summary>ESPfix64 as init_espfix_bsp and init_espfix_ap leave it (arch/x86/kernel/espfix_64.c).</summary>
public class EspfixTests
{
    [Test]
    public void EachCpusMinistackIsOneReadOnlyPageSeen65536TimesAt64KStrides()
    {
        var k = TestKernel.Boot(cpus: 2);
        ulong base0 = k.Espfix.EspfixStack(0);
        Assert.Multiple(() =>
        {
            Assert.That(base0, Is.EqualTo(KernelLayout.ESPFIX_BASE_ADDR));
            Assert.That(k.Espfix.EspfixStack(1), Is.EqualTo(base0 + Espfix.ESPFIX_STACK_SIZE), "CPUs of a page take consecutive 64-byte slots");
            var first = k.Walker.Translate(k.InitTopPgt, base0)!.Value;
            Assert.That(first.Flags & _PAGE_RW, Is.Zero);
            Assert.That(first.Flags & _PAGE_NX, Is.Not.Zero);
            // The same frame 64K, 2M (next pmd clone) and 1G (next pud clone) further up; not 4K up.
            foreach (ulong off in new ulong[] { 0x10000, 0x200000, 0x40000000, 0xffff0000UL })
                Assert.That(k.Walker.Translate(k.InitTopPgt, base0 + off)?.PfnOf(base0 + off), Is.EqualTo(first.PfnOf(base0)), $"+0x{off:x}");
            Assert.That(k.Walker.Translate(k.InitTopPgt, base0 + 0x1000), Is.Null);
            Assert.That(k.Walker.Translate(k.InitTopPgt, base0 + 4 * (1UL << 30)), Is.Null, "ESPFIX_PUD_CLONES is 4");
            Assert.That(k.Espfix.Pages.Select(p => p.Who), Is.EqualTo(new[] { "ESPfix PMD table", "ESPfix PTE table", "ESPfix stack page 0" }),
                "both CPUs share one page of ESPFIX_STACKS_PER_PAGE slots");
        });
    }

    [Test]
    public void TheDumpShowsSixteenLinesOfTheAreaThenTheKernelsSkippedLine()
    {
        var text = TestKernel.Boot().DumpKernelPageTables().Text;
        int start = text.IndexOf("---[ ESPfix Area ]---\n", StringComparison.Ordinal);
        var lines = text[start..].Split('\n');
        Assert.Multiple(() =>
        {
            Assert.That(lines[1], Is.EqualTo("0xffffff0000000000-0xffffff0000001000           4K     ro                     NX pte"));
            Assert.That(lines[2], Is.EqualTo("0xffffff0000001000-0xffffff0000010000          60K                               pte"));
            // 4 pud clones x 512 pmd clones x 64 lines, then the pud hole up to EFI: 131073 lines, 16 printed.
            Assert.That(lines[17], Is.EqualTo("... 131057 entries skipped ... "));
            Assert.That(lines[18], Is.EqualTo("---[ EFI Runtime Services ]---"));
        });
    }

    [Test]
    public void WithKaiserTheShadowPgdGetsTheEspfixPudAndKeepsItsOwnTableCounted()
    {
        var k = TestKernel.Boot(pti: true);
        int gi = pgd_index(KernelLayout.ESPFIX_BASE_ADDR);
        Assert.Multiple(() =>
        {
            Assert.That(pte_pfn(k.Tables[k.Image.InitShadowPgtPfn][gi]), Is.EqualTo(k.Image.EspfixPudPagePfn));
            Assert.That(k.Kaiser!.UnlinkedTables, Is.EqualTo(1), "kaiser_init_all_pgds' PUD table for that slot stays allocated");
            Assert.That(k.Kaiser.DumpShadow().Text, Does.Contain("---[ ESPfix Area ]---\n0xffffff0000000000-0xffffff0000001000           4K     ro                     NX pte\n"));
            Assert.That(k.RunChecks(), Is.Empty);
        });
    }

    [Test]
    public void EspfixTablesHaveNoConstructorAndAreNotPageTablePages()
    {
        var with = TestKernel.Boot();
        Assert.That(with.VmStat[VmStatItem.NR_PAGETABLE], Is.Zero);
        Assert.That(with.Espfix.Pages.Select(p => with.Frames.Peek(p.Pfn).Has(PageFlags.PG_table)), Is.All.False);
    }
}
