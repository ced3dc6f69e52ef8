using KernelMm.Model.Mm;
using KernelMm.Model.Paging;
using KernelMm.Model.Stats;

namespace KernelMm.Model.Tests.Mm;

public class KaiserTests
{
    [Test]
    public void BootMakesTheSharedKernelHalfPudTables()
    {
        var k = TestKernel.Boot();
        var shadow = k.Tables[k.Image.InitShadowPgtPfn];
        Assert.Multiple(() =>
        {
            Assert.That(Enumerable.Range(256, 256).All(i => shadow[i] != 0), Is.True);
            Assert.That(Enumerable.Range(0, 256).All(i => shadow[i] == 0), Is.True);
            Assert.That(k.Kaiser!.TablesInstalled, Is.GreaterThan(256), "256 PUDs plus the tables for per-cpu areas, entry text, IDT, idle stacks");
            Assert.That(k.VmStat[VmStatItem.NR_PAGETABLE], Is.Zero, "shadow tables are not page-table pages");
        });
    }

    /// <summary>4.9 kaiser_init: after the IDT, the trace IDT's descriptor and table, the debug IDT's, and X86_CR3_PCID_KERN_VAR.</summary>
    [Test]
    public void KaiserInitUserMapsTheTraceAndDebugIdtsAndThePcidVariable()
    {
        var k = TestKernel.Boot();
        var img = k.Image;
        Assert.Multiple(() =>
        {
            foreach (var (name, va, rw) in new[]
            {
                ("idt_table", img.idt_table, false),
                ("trace_idt_descr", img.trace_idt_descr, true),
                ("trace_idt_table", img.trace_idt_table, true),
                ("debug_idt_descr", img.debug_idt_descr, true),
                ("debug_idt_table", img.debug_idt_table, true),
                ("X86_CR3_PCID_KERN_VAR", img.X86_CR3_PCID_KERN_VAR, true),
            })
            {
                var shadow = k.Walker.Translate(img.InitShadowPgtPfn, va);
                Assert.That(shadow, Is.Not.Null, name);
                Assert.That(shadow!.Value.PfnOf(va), Is.EqualTo(k.Walker.Translate(k.InitTopPgt, va)!.Value.PfnOf(va)), name);
                Assert.That((shadow.Value.Flags & PageBits._PAGE_RW) != 0, Is.EqualTo(rw), name);
            }
            Assert.That(k.Log.Warnings, Is.Empty);
        });
    }

    [Test]
    public void AddingAMappingOfUnmappedMemoryFailsWithEioAndWarnsOnce()
    {
        var k = TestKernel.Boot();
        ulong hole = KernelLayout.VMALLOC_START + (1UL << 40);
        Assert.That(k.Kaiser!.AddMapping(hole, 8192, PageBits.__PAGE_KERNEL), Is.EqualTo(-(int)Errno.EIO));
        Assert.That(k.Kaiser.AddMapping(hole, 4096, PageBits.__PAGE_KERNEL), Is.EqualTo(-(int)Errno.EIO));
        Assert.That(k.Log.Warnings.Select(w => w.Message), Is.EqualTo(new[] { $"WARNING: get_pa_from_mapping: 0x{hole:x} is not mapped in init_mm" }));
    }

    [Test]
    public void EveryMmSharesTheKernelHalfOfTheShadow()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("a");
        var q = k.Spawn("b");
        var init = k.Tables[k.Image.InitShadowPgtPfn];
        Assert.That(k.Tables[p.Mm.ShadowPgd][300], Is.EqualTo(init[300]));
        Assert.That(k.Tables[q.Mm.ShadowPgd][511], Is.EqualTo(init[511]));
        Assert.That(p.Mm.ShadowPgd, Is.EqualTo(p.Mm.Pgd + 1), "order-1 pgd: the shadow at +4 KiB");
    }

    [Test]
    public void UserHalfEntriesAreMirroredAndNxInTheKernelCopy()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("mirror");
        ulong kernelCopy = k.Tables[p.Mm.Pgd][255];
        ulong shadowCopy = k.Tables[p.Mm.ShadowPgd][255];
        Assert.Multiple(() =>
        {
            Assert.That(kernelCopy & PageBits._PAGE_NX, Is.Not.Zero);
            Assert.That(shadowCopy & PageBits._PAGE_NX, Is.Zero);
            Assert.That(PageBits.pte_pfn(kernelCopy), Is.EqualTo(PageBits.pte_pfn(shadowCopy)));
        });
        p.Exit();
    }

    [Test]
    public void TheStackTopIsMappedAtForkAndUnmappedAtExitWithTablesKept()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("stack");
        ulong top = k.DirectMapAddress(p.StackPfn) + (ulong)Process.THREAD_SIZE - 4096;
        var e = k.Walker.LookupAddress(k.Image.InitShadowPgtPfn, top);
        Assert.That(e.Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
        Assert.That(PageBits.pte_pfn(k.Walker.Read(e)), Is.EqualTo(p.StackPfn + 3));
        Assert.That(k.Walker.Read(k.Walker.LookupAddress(k.Image.InitShadowPgtPfn, top - 4096)), Is.Zero, "only the top page");
        long tables = k.Kaiser!.TablesInstalled;
        p.Exit();
        Assert.Multiple(() =>
        {
            Assert.That(k.Walker.Read(e), Is.Zero);
            Assert.That(k.Tables.IsTable(e.TablePfn), Is.True, "the shadow PTE table stays");
            Assert.That(k.Kaiser.TablesInstalled, Is.EqualTo(tables));
        });
    }

    [Test]
    public void LargeLdtsAreUserMappedInTheVmallocArea()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("ldt");
        p.ModifyLdt(8192); // 64 KiB: vzalloc
        var area = k.Vmalloc.Areas.Single(a => a.Caller.StartsWith("alloc_ldt_struct", StringComparison.Ordinal));
        var e = k.Walker.LookupAddress(k.Image.InitShadowPgtPfn, area.Addr);
        Assert.That(PageBits.pte_pfn(k.Walker.Read(e)), Is.EqualTo(area.Pages[0]));
        Assert.That(k.Kaiser!.DumpShadow().Text, Does.Contain("---[ vmalloc() Area ]---\n0xffffc90000000000-0xffffc90000010000          64K     RW                     NX pte"));
    }

    [Test]
    public void ARacingInstallFreesTheLosingAllocation()
    {
        var k = TestKernel.Boot();
        long installed = k.Kaiser!.TablesInstalled;
        long free = k.VmStat[VmStatItem.NR_FREE_PAGES];
        var area = k.Vmalloc.Vmalloc(4096);
        k.Kaiser.RaceBeforeInstall = addr =>
        {
            // Another CPU installs the PMD table first.
            var pud = k.Tables[PageBits.pte_pfn(k.Tables[k.Image.InitShadowPgtPfn][PageShifts.pgd_index(addr)])];
            int ui = PageShifts.pud_index(addr);
            if (pud[ui] == 0)
            {
                long pfn = k.Buddy.AllocPages(0, Model.Memory.GfpFlags.GFP_KERNEL, Model.Memory.PageOwnerKind.KaiserTable);
                k.Tables.Create(pfn);
                pud[ui] = PageBits.mk_table(pfn, PageBits._KERNPG_TABLE);
            }
        };
        k.Kaiser.AddMapping(area.Addr, 4096, PageBits.__PAGE_KERNEL);
        Assert.That(k.Kaiser.TablesInstalled - installed, Is.EqualTo(1), "only the PTE table was installed by this walk");
        Assert.That(free - k.VmStat[VmStatItem.NR_FREE_PAGES], Is.EqualTo(1 + 1 + 2 + 1), "vmalloc page + its PTE and PMD... the loser freed");
    }
}
