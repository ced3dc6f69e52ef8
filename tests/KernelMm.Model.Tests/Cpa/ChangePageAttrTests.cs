using KernelMm.Model.Paging;
using KernelMm.Model.Stats;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Model.Tests.Cpa;

public class ChangePageAttrTests
{
    private static readonly ulong SecondGiB = KernelLayout.PAGE_OFFSET + TestKernel.GiB;

    /// <summary>
    /// KERNEL-FACTS B.5: one 4K change inside a 1G leaf splits 1G to 2M, then 2M to 4K.
    /// <code>
    ///   1G leaf  [----------------------------------------------]
    ///   2M       [X][--][--] ... 511 more 2M leaves
    ///   4K       [r][-][-] ... 511 more 4K entries
    /// </code>
    /// </summary>
    [Test]
    public void OneFourKChangeInA1GLeaf()
    {
        var k = TestKernel.Boot();
        long tables = k.Tables.Count;
        long pt = k.VmStat[VmStatItem.NR_PAGETABLE];
        var before = k.DirectMap.Meminfo(true).ToDictionary(x => x.Name, x => x.Kb);

        k.SetMemory.ReadOnly(SecondGiB, 1);

        var after = k.DirectMap.Meminfo(true).ToDictionary(x => x.Name, x => x.Kb);
        Assert.Multiple(() =>
        {
            Assert.That(after["DirectMap1G"] - before["DirectMap1G"], Is.EqualTo(-1048576));
            Assert.That(after["DirectMap2M"] - before["DirectMap2M"], Is.EqualTo(1046528));
            Assert.That(after["DirectMap4k"] - before["DirectMap4k"], Is.EqualTo(2048));
            Assert.That(k.VmStat[VmEventItem.DIRECT_MAP_LEVEL3_SPLIT], Is.EqualTo(1));
            Assert.That(k.VmStat[VmEventItem.DIRECT_MAP_LEVEL2_SPLIT], Is.EqualTo(1));
            Assert.That(k.Tables.Count - tables, Is.EqualTo(2), "two split tables");
            Assert.That(k.VmStat[VmStatItem.NR_PAGETABLE], Is.EqualTo(pt), "split tables are not page-table pages");
            var e = k.lookup_address(SecondGiB);
            Assert.That(e.Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
            Assert.That(k.Walker.Read(e) & _PAGE_RW, Is.Zero);
            Assert.That(k.Walker.Read(k.lookup_address(SecondGiB + 4096)) & _PAGE_RW, Is.Not.Zero);
        });
    }

    [Test]
    public void RestoringTheProtectionLeavesTheMapSplit()
    {
        var k = TestKernel.Boot();
        k.SetMemory.ReadOnly(SecondGiB, 1);
        k.SetMemory.ReadWrite(SecondGiB, 1);
        Assert.Multiple(() =>
        {
            Assert.That(k.lookup_address(SecondGiB).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
            Assert.That(k.Meminfo["DirectMap4k"], Is.EqualTo(2048 + 2048), "the boot 4K head and the split 2M");
            Assert.That(k.DumpKernelPageTables().Text, Does.Contain(
                "0xffff888040000000-0xffff888040200000           2M     RW                     NX pte\n"));
        });
    }

    private static ulong Entry(Kernel k, ulong va)
    {
        var e = k.lookup_address(va);
        return k.Tables[e.TablePfn][e.Index];
    }

    [Test]
    public void SetMemoryRoxIsOneRequestClearingRwAndNxWithTheRoxFlags()
    {
        var k = TestKernel.Boot();
        var seen = new List<Model.Cpa.CpaFlags>();
        k.Cpa.AfterCpaFlush = cpa => seen.Add(cpa.Flags);
        k.SetMemory.ReadOnlyExec(SecondGiB, 1);
        k.SetMemory.RoxFlags = Model.Cpa.CpaFlags.CPA_COLLAPSE;
        k.SetMemory.ReadWrite(SecondGiB, 1);
        k.SetMemory.ReadOnlyExec(SecondGiB, 1);
        Assert.Multiple(() =>
        {
            Assert.That(Entry(k, SecondGiB) & (_PAGE_RW | _PAGE_NX), Is.Zero);
            Assert.That(seen.Select(f => f & Model.Cpa.CpaFlags.CPA_COLLAPSE), Is.EqualTo(new[] { Model.Cpa.CpaFlags.None, Model.Cpa.CpaFlags.None, Model.Cpa.CpaFlags.CPA_COLLAPSE }),
                "one cpa_flush per call; only set_memory_rox carries the seam's flags");
        });
    }

    [Test]
    public void AWhole2MChangeKeepsTheLargePage()
    {
        var k = TestKernel.Boot();
        ulong va = KernelLayout.PAGE_OFFSET + 64 * TestKernel.MiB; // a 2M leaf of the first gigabyte
        k.SetMemory.ReadOnly(va, 512);
        var e = k.lookup_address(va);
        Assert.Multiple(() =>
        {
            Assert.That(e.Level, Is.EqualTo(PageLevel.PG_LEVEL_2M));
            Assert.That(k.Walker.Read(e) & _PAGE_RW, Is.Zero);
            Assert.That(k.Walker.Read(e) & _PAGE_PSE, Is.Not.Zero);
            Assert.That(k.Meminfo["DirectMap4k"], Is.EqualTo(2048), "only the boot 4K head");
        });
    }

    [Test]
    public void ARequestEqualToTheCurrentProtKeepsAnyLargePage()
    {
        var k = TestKernel.Boot();
        k.SetMemory.ReadWrite(SecondGiB + 4096, 3);
        Assert.That(k.lookup_address(SecondGiB).Level, Is.EqualTo(PageLevel.PG_LEVEL_1G));
    }

    [Test]
    public void AVmallocChangeReachesTheDirectMapAlias()
    {
        var k = TestKernel.Boot();
        var area = k.Vmalloc.Vmalloc(3 * 4096);
        k.SetMemory.ReadOnly(area.Addr, 3);
        Assert.Multiple(() =>
        {
            foreach (var pfn in area.Pages)
            {
                var alias = k.lookup_address(k.DirectMapAddress(pfn));
                Assert.That(alias.Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
                Assert.That(k.Walker.Read(alias) & _PAGE_RW, Is.Zero, "the alias is read-only too");
                Assert.That(k.Walker.Read(k.lookup_address(area.Addr)) & _PAGE_RW, Is.Zero);
            }
            Assert.That(k.VmStat[VmEventItem.DIRECT_MAP_LEVEL2_SPLIT], Is.GreaterThanOrEqualTo(1));
        });
    }

    [Test]
    public void ExecOnAVmallocPageLeavesTheDirectMapNx()
    {
        var k = TestKernel.Boot();
        var area = k.Vmalloc.ModuleAlloc(4096);
        k.SetMemory.Exec(area.Addr, 1);
        Assert.Multiple(() =>
        {
            Assert.That(k.Walker.Read(k.lookup_address(area.Addr)) & _PAGE_NX, Is.Zero);
            Assert.That(k.Walker.Read(k.lookup_address(k.DirectMapAddress(area.Pages[0]))) & _PAGE_NX, Is.Not.Zero);
            Assert.That(k.lookup_address(k.DirectMapAddress(area.Pages[0])).Level, Is.Not.EqualTo(PageLevel.PG_LEVEL_4K),
                "NX is masked out of the alias request, so nothing changes there");
        });
    }

    [Test]
    public void NotPresentThenPresent()
    {
        var k = TestKernel.Boot(pti: false);
        ulong va = SecondGiB + 8 * 4096;
        k.SetMemory.NotPresent(va, 1);
        ulong np = k.Walker.Read(k.lookup_address(va));
        Assert.Multiple(() =>
        {
            Assert.That(np & _PAGE_PRESENT, Is.Zero);
            Assert.That(np & _PAGE_GLOBAL, Is.Zero, "GLOBAL would read as PROTNONE");
            Assert.That(k.Walker.Translate(k.InitTopPgt, va), Is.Null);
            Assert.That(k.DumpKernelPageTables().Text, Does.Contain(
                "0xffff888040008000-0xffff888040009000           4K                               pte\n"));
        });
        k.SetMemory.Present(va, 1);
        ulong p = k.Walker.Read(k.lookup_address(va));
        Assert.Multiple(() =>
        {
            Assert.That(p & _PAGE_PRESENT, Is.Not.Zero);
            Assert.That(p & _PAGE_GLOBAL, Is.Zero, "set_memory_p does not bring GLOBAL back");
            Assert.That(k.Walker.Translate(k.InitTopPgt, va), Is.Not.Null);
        });
    }

    [Test]
    public void RodataStaysReadOnlyThroughAnyAlias()
    {
        var k = TestKernel.Boot();
        ulong rodataAlias = k.DirectMapAddress(k.Image.FirstPfn + (12 << 8));
        k.SetMemory.ReadWrite(rodataAlias, 1);
        Assert.That(k.Walker.Read(k.lookup_address(rodataAlias)) & _PAGE_RW, Is.Zero, "static_protections forbids RW on .rodata pfns");
    }

    [Test]
    public void KernelTextStaysExecutable()
    {
        var k = TestKernel.Boot();
        k.SetMemory.NoExec(k.Image._text, 1);
        Assert.That(k.Walker.Read(k.lookup_address(k.Image._text)) & _PAGE_NX, Is.Zero);
    }

    [Test]
    public void ZeroPteOutsideTheDirectMapIsAWarningAndEfault()
    {
        var k = TestKernel.Boot();
        var ex = Assert.Throws<KernelErrnoException>(() => k.SetMemory.ReadOnly(KernelLayout.VMALLOC_START + (1UL << 40), 1));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Errno, Is.EqualTo(Errno.EFAULT));
            Assert.That(ex.Message, Does.StartWith("set_memory_ro: -EFAULT"));
            Assert.That(k.Log.Warnings.Single().Message, Does.StartWith("WARNING: CPA: called for zero pte."));
        });
    }

    [Test]
    public void SetMemory4kSplitsWithoutChangingAttributes()
    {
        var k = TestKernel.Boot();
        ulong before = k.Walker.Read(k.lookup_address(SecondGiB)) ;
        k.SetMemory.FourK(SecondGiB, 1);
        var e = k.lookup_address(SecondGiB);
        Assert.Multiple(() =>
        {
            Assert.That(e.Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
            Assert.That(pte_flags(k.Walker.Read(e)), Is.EqualTo(pgprot_large_2_4k(pud_flags(before))));
        });
    }

    [Test]
    public void SmallRangesFlushPageByPageLargeOnesFlushAll()
    {
        var k = TestKernel.Boot();
        k.SetMemory.FourK(SecondGiB, 512);
        long full = k.Tlbs.FullFlushes, pages = k.Tlbs.PageFlushes;
        k.SetMemory.ReadOnly(SecondGiB, 33);
        Assert.That(k.Tlbs.FullFlushes, Is.EqualTo(full));
        Assert.That(k.Tlbs.PageFlushes - pages, Is.EqualTo(33));
        k.SetMemory.ReadOnly(SecondGiB + 33 * 4096, 34);
        Assert.That(k.Tlbs.FullFlushes, Is.EqualTo(full + 1));
    }

    /// <summary>5.x change_page_attr_set_clr: "No alias checking for _NX bit modifications".</summary>
    [Test]
    public void AnNxOnlyRequestTouchesNoAliasAndForcesNoFullFlush()
    {
        var k = TestKernel.Boot();
        var area = k.Vmalloc.Vmalloc(4 * 4096);
        ulong alias = k.DirectMapAddress(area.Pages[0]);
        long full = k.Tlbs.FullFlushes, splits = k.Cpa.Splits2M + k.Cpa.Splits1G;
        k.SetMemory.Exec(area.Addr, 4);
        Assert.Multiple(() =>
        {
            Assert.That(k.Walker.Read(k.lookup_address(area.Addr)) & _PAGE_NX, Is.Zero);
            Assert.That(k.Cpa.Splits2M + k.Cpa.Splits1G, Is.EqualTo(splits), "the direct-map alias is not visited");
            Assert.That(k.Walker.Read(k.lookup_address(alias)) & _PAGE_NX, Is.Not.Zero);
            Assert.That(k.Tlbs.FullFlushes, Is.EqualTo(full), "4 pages and no alias: per-page flushes");
        });
        k.SetMemory.ReadOnly(area.Addr, 4);
        Assert.That(k.Tlbs.FullFlushes, Is.GreaterThan(full), "an RW change reaches the alias and flushes all");
    }

    [Test]
    public void AnNxOnlyRequestOnAHoleIsNoZeroPteWarning()
    {
        var k = TestKernel.Boot();
        ulong hole = KernelLayout.VMALLOC_START + (1UL << 40);
        k.SetMemory.NoExec(hole, 1);
        Assert.That(k.Log.Warnings, Is.Empty, "not primary: the fault is skipped quietly");
        Assert.Throws<KernelErrnoException>(() => k.SetMemory.ReadOnly(hole, 1));
        Assert.That(k.Log.Warnings.Single().Message, Does.StartWith("WARNING: CPA: called for zero pte."));
    }

    /// <summary>canon_pgprot of the set mask only, and massage_pgprot masks a present prot only.</summary>
    [Test]
    public void OnlyAPresentSetMaskLosesUnsupportedBits()
    {
        var k = TestKernel.Boot(pti: true);
        var cpa = new Model.Cpa.CpaData { Vaddr = [KernelLayout.PAGE_OFFSET + TestKernel.GiB], NumPages = 1, MaskSet = _PAGE_PRESENT | _PAGE_GLOBAL, MaskClr = _PAGE_GLOBAL };
        k.Cpa.change_page_attr_set_clr(cpa);
        Assert.Multiple(() =>
        {
            Assert.That(cpa.MaskSet, Is.EqualTo(_PAGE_PRESENT), "GLOBAL is not supported under KAISER");
            Assert.That(cpa.MaskClr, Is.EqualTo(_PAGE_GLOBAL), "clearing an unsupported bit is fine");
            Assert.That(k.massage_pgprot(_PAGE_GLOBAL), Is.EqualTo(_PAGE_GLOBAL), "massage_pgprot leaves a not-present prot alone");
        });
    }

    /// <summary>
    /// set_memory_np of a whole 1G leaf: should_split_large_page adds PSE back only to a
    /// present prot, so the entry keeps neither; pud_large (PSE and PRESENT) is false,
    /// lookup_address still stops there (!pud_present), ptdump neither notes nor walks it.
    /// </summary>
    [Test]
    public void ANotPresent1GLeafIsNoPudLargeButStillWhereLookupStops()
    {
        var k = TestKernel.Boot();
        ulong va = KernelLayout.PAGE_OFFSET + 2 * TestKernel.GiB;
        k.SetMemory.NotPresent(va, 1 << 18);
        var e = k.lookup_address(va);
        ulong pud = k.Walker.Read(e);
        Assert.Multiple(() =>
        {
            Assert.That(e.Level, Is.EqualTo(PageLevel.PG_LEVEL_1G));
            Assert.That(pud_large(pud), Is.False);
            Assert.That(pud_large(pud | _PAGE_PSE), Is.False, "PSE without PRESENT is no pud_large");
            Assert.That(pud_pfn(pud | _PAGE_PSE), Is.EqualTo((long)(2 * TestKernel.GiB >> 12)), "pud_pfn keeps the PSE-only test");
            Assert.That(pud_flags(pud | _PAGE_PSE | (1UL << 12)) & (1UL << 12), Is.Not.Zero, "pud_flags too: bit 12 is PAT_LARGE, not pfn");
            // walk_pud_range neither notes (pud_leaf) nor descends (!pud_present): the line before runs on over it.
            Assert.That(k.DumpKernelPageTables().Text, Does.Contain("0xffff888040000000-0xffff888100000000           3G     RW         PSE         NX pud\n"));
            Assert.That(k.RunChecks(), Is.Empty, "DirectMap keeps the not-present leaf's count, as the kernel does");
        });
    }

    /// <summary>
    /// split_set_pte makes each new entry with pfn_pte, whose check_pgprot massages the prot
    /// (arch/x86/include/asm/pgtable.h, 5.x): under KAISER __supported_pte_mask has no GLOBAL,
    /// so a large entry that carries it (written behind CPA's back here) splits into 4K
    /// entries without it.
    /// </summary>
    [TestCase(true)]
    [TestCase(false)]
    public void ASplitMassagesTheLargeEntrysProt(bool pti)
    {
        var k = TestKernel.Boot(pti: pti);
        ulong va = KernelLayout.PAGE_OFFSET + 64 * TestKernel.MiB; // a 2M leaf
        var leaf = k.lookup_address(va);
        Assert.That(leaf.Level, Is.EqualTo(PageLevel.PG_LEVEL_2M));
        k.Walker.Write(leaf, k.Walker.Read(leaf) | _PAGE_GLOBAL);
        k.SetMemory.ReadOnly(va + 5 * 4096, 1);
        var pte = k.Tables[k.lookup_address(va).TablePfn];
        Assert.That(Enumerable.Range(0, 512).Count(i => (pte[i] & _PAGE_GLOBAL) != 0), Is.EqualTo(pti ? 0 : 512));
    }
}
