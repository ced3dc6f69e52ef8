using KernelMm.Model.Cpa;
using KernelMm.Model.Diagnostics;
using KernelMm.Model.Paging;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Model.Tests.Cpa;

/// <summary>
/// change_page_attr's less travelled paths: errors part-way, the high-map alias, the array
/// forms, the flush decisions and the seams, the no-flush direct-map helper.
/// </summary>
public class ChangePageAttrPathsTests
{
    private static readonly ulong SecondGiB = KernelLayout.PAGE_OFFSET + TestKernel.GiB;

    private static ulong Pte(Kernel k, ulong va) => k.Walker.Read(k.lookup_address(va));

    [Test]
    public void AMisalignedAddressIsAWarningAndRoundedDown()
    {
        var k = TestKernel.Boot();
        k.SetMemory.ReadOnly(SecondGiB + 0x1234, 1);
        Assert.Multiple(() =>
        {
            Assert.That(k.Log.Warnings.Single().Kind, Is.EqualTo("cpa-misaligned"));
            Assert.That(k.Log.Warnings.Single().Message, Is.EqualTo("WARNING: misaligned address 0xffff888040001234 in change_page_attr_set_clr"));
            Assert.That(Pte(k, SecondGiB + 0x1000) & _PAGE_RW, Is.Zero, "the page it lies in");
            Assert.That(Pte(k, SecondGiB + 0x2000) & _PAGE_RW, Is.Not.Zero, "not the next one");
        });
    }

    [Test]
    public void AnEmptyRequestChangesAndFlushesNothing()
    {
        var k = TestKernel.Boot();
        long calls = k.Cpa.Calls, full = k.Tlbs.FullFlushes, pages = k.Tlbs.PageFlushes;
        int flushes = 0;
        k.Cpa.AfterCpaFlush = _ => flushes++;
        var cpa = new CpaData { Vaddr = [SecondGiB], NumPages = 1 };
        Assert.Multiple(() =>
        {
            Assert.That(k.Cpa.change_page_attr_set_clr(cpa), Is.Zero);
            Assert.That(k.Cpa.Calls, Is.EqualTo(calls + 1));
            Assert.That(k.lookup_address(SecondGiB).Level, Is.EqualTo(PageLevel.PG_LEVEL_1G));
            Assert.That((k.Tlbs.FullFlushes, k.Tlbs.PageFlushes, flushes), Is.EqualTo((full, pages, 0)));
        });
        // A request that matches what is there splits nothing and, having written nothing, skips cpa_flush.
        k.SetMemory.ReadWrite(SecondGiB, 1);
        Assert.That(flushes, Is.Zero, "no CPA_FLUSHTLB: nothing was written");
    }

    /// <summary>A vmalloc range running into its guard page: the pages before it changed, so everything is flushed before -EFAULT.</summary>
    [Test]
    public void AnErrorAfterChangesFlushesEverything()
    {
        var k = TestKernel.Boot();
        var area = k.Vmalloc.Vmalloc(2 * 4096);
        int cpaFlushes = 0;
        k.Cpa.AfterCpaFlush = _ => cpaFlushes++;
        long full = k.Tlbs.FullFlushes;
        var ex = Assert.Throws<KernelErrnoException>(() => k.SetMemory.ReadOnly(area.Addr, 3));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Errno, Is.EqualTo(Errno.EFAULT));
            Assert.That(Pte(k, area.Addr) & _PAGE_RW, Is.Zero);
            Assert.That(Pte(k, area.Addr + 4096) & _PAGE_RW, Is.Zero);
            Assert.That(k.Tlbs.FullFlushes, Is.GreaterThan(full), "cpa_flush_all");
            Assert.That(cpaFlushes, Is.Zero, "not cpa_flush: its seams do not run");
            Assert.That(k.Log.Warnings.Single().Message, Does.StartWith("WARNING: CPA: called for zero pte. vaddr = " + (area.Addr + 2 * 4096).ToString("x")));
            Assert.That(k.Log.Warnings.Single().Kind, Is.EqualTo("cpa"));
        });
    }

    /// <summary>Past the end of the high map, after a page of the image: __cpa_process_fault's highmap case, -EFAULT without the zero-pte warning.</summary>
    [Test]
    public void RunningPastTheHighMapIsEfaultWithoutAWarning()
    {
        var k = TestKernel.Boot();
        ulong end = KernelLayout.RoundUp(k.Image._brk_end, 2UL << 20);
        var ex = Assert.Throws<KernelErrnoException>(() => k.SetMemory.ReadOnly(end - 4096, 2));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Errno, Is.EqualTo(Errno.EFAULT));
            Assert.That(k.Log.Warnings.Where(w => w.Kind == "cpa"), Is.Empty);
            Assert.That(Pte(k, end - 4096) & _PAGE_RW, Is.Zero, "the last page of the image did change");
        });
    }

    /// <summary>A direct-map page of the kernel's .bss: cpa_process_alias changes its high-map alias too, and flushes all.</summary>
    [Test]
    public void AnImagePageChangedThroughTheDirectMapChangesItsHighMapAlias()
    {
        var k = TestKernel.Boot();
        long pfn = k.Image.EmptyZeroPagePfn + 0x100;
        ulong direct = k.DirectMapAddress(pfn);
        ulong high = KernelLayout.__START_KERNEL_map + ((ulong)pfn << 12);
        Assert.That(Pte(k, high) & _PAGE_RW, Is.Not.Zero);
        long full = k.Tlbs.FullFlushes, splits = k.Cpa.Splits2M;
        k.SetMemory.ReadOnly(direct, 1);
        Assert.Multiple(() =>
        {
            Assert.That(Pte(k, direct) & _PAGE_RW, Is.Zero);
            Assert.That(k.lookup_address(high).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
            Assert.That(Pte(k, high) & _PAGE_RW, Is.Zero, "the high-map alias");
            Assert.That(pte_pfn(Pte(k, high)), Is.EqualTo(pfn));
            Assert.That(Pte(k, high + 4096) & _PAGE_RW, Is.Not.Zero);
            Assert.That(k.Cpa.Splits2M - splits, Is.EqualTo(2), "the direct map's 2M page and the high map's");
            Assert.That(k.Tlbs.FullFlushes, Is.GreaterThan(full), "an alias forces flush_tlb_all");
            Assert.That(k.RunChecks(), Is.Empty, "the high-map split's DirectMap count is noted as unbacked");
        });
    }

    /// <summary>The same page changed through the high map reaches the direct map.</summary>
    [Test]
    public void AnImagePageChangedThroughTheHighMapChangesItsDirectMapAlias()
    {
        var k = TestKernel.Boot();
        long pfn = k.Image.EmptyZeroPagePfn + 0x100;
        ulong high = KernelLayout.__START_KERNEL_map + ((ulong)pfn << 12);
        k.SetMemory.ReadOnly(high, 1);
        Assert.Multiple(() =>
        {
            Assert.That(Pte(k, high) & _PAGE_RW, Is.Zero);
            Assert.That(Pte(k, k.DirectMapAddress(pfn)) & _PAGE_RW, Is.Zero);
            Assert.That(Pte(k, k.DirectMapAddress(pfn + 1)) & _PAGE_RW, Is.Not.Zero);
            Assert.That(k.RunChecks(), Is.Empty);
        });
    }

    [Test]
    public void CpaNoCheckAliasLeavesTheAliasAlone()
    {
        var k = TestKernel.Boot();
        var area = k.Vmalloc.Vmalloc(4096);
        ulong alias = k.DirectMapAddress(area.Pages[0]);
        k.SetMemory.Change("set_memory_ro", area.Addr, 1, 0, _PAGE_RW, flags: CpaFlags.CPA_NO_CHECK_ALIAS);
        Assert.Multiple(() =>
        {
            Assert.That(Pte(k, area.Addr) & _PAGE_RW, Is.Zero);
            Assert.That(Pte(k, alias) & _PAGE_RW, Is.Not.Zero);
        });
    }

    /// <summary>CPA_ARRAY: one page per step, each address of its own (rounded down), aliases each.</summary>
    [Test]
    public void AnArrayRequestChangesExactlyTheListedPages()
    {
        var k = TestKernel.Boot();
        ulong[] addrs = [SecondGiB + 5 * 4096 + 17, SecondGiB + 200 * 4096, SecondGiB + 3 * TestKernel.MiB];
        k.SetMemory.ChangeArray("set_memory_array_ro", addrs, 0, _PAGE_RW);
        Assert.Multiple(() =>
        {
            foreach (ulong a in addrs)
                Assert.That(Pte(k, a) & _PAGE_RW, Is.Zero, $"0x{a:x}");
            Assert.That(Pte(k, SecondGiB + 6 * 4096) & _PAGE_RW, Is.Not.Zero);
            Assert.That(Pte(k, SecondGiB + 199 * 4096) & _PAGE_RW, Is.Not.Zero);
            Assert.That(Pte(k, SecondGiB + 3 * TestKernel.MiB + 4096) & _PAGE_RW, Is.Not.Zero);
            Assert.That(k.Log.Warnings, Is.Empty, "an array's addresses are not checked for alignment");
        });
    }

    [Test]
    public void APagesArrayRequestChangesTheDirectMapOfEachPfn()
    {
        var k = TestKernel.Boot();
        long[] pfns = [0x40010, 0x40200, 0x40011];
        long pageFlushes = k.Tlbs.PageFlushes;
        k.SetMemory.ChangePagesArray("set_pages_array_ro", pfns, 0, _PAGE_RW);
        Assert.Multiple(() =>
        {
            foreach (long pfn in pfns)
                Assert.That(Pte(k, k.DirectMapAddress(pfn)) & _PAGE_RW, Is.Zero, $"pfn {pfn:x}");
            Assert.That(Pte(k, k.DirectMapAddress(0x40012)) & _PAGE_RW, Is.Not.Zero);
            Assert.That(Pte(k, k.DirectMapAddress(0x4000f)) & _PAGE_RW, Is.Not.Zero);
        });
    }

    [Test]
    public void SplitsAreCountedByTheLevelSplit()
    {
        var k = TestKernel.Boot();
        long s2 = k.Cpa.Splits2M, s1 = k.Cpa.Splits1G;
        k.SetMemory.ReadOnly(SecondGiB, 1);
        Assert.That((k.Cpa.Splits1G - s1, k.Cpa.Splits2M - s2), Is.EqualTo((1L, 1L)));
        k.SetMemory.ReadOnly(SecondGiB + 4096, 1); // already 4K
        k.SetMemory.ReadOnly(SecondGiB + 2 * TestKernel.MiB, 1); // a 2M leaf of the split gigabyte
        Assert.That((k.Cpa.Splits1G - s1, k.Cpa.Splits2M - s2), Is.EqualTo((1L, 2L)));
    }

    /// <summary>A split keeps every frame and attribute: 512 consecutive pfns with the large page's prot in 4K form.</summary>
    [Test]
    public void ASplitMapsTheSameFramesWithTheSameAttributes()
    {
        var k = TestKernel.Boot();
        ulong va = SecondGiB + 6 * TestKernel.MiB;
        k.SetMemory.FourK(va, 1);
        var pmd = k.lookup_address(SecondGiB + 8 * TestKernel.MiB);
        Assert.That(pmd.Level, Is.EqualTo(PageLevel.PG_LEVEL_2M));
        ulong large = k.Walker.Read(pmd);
        Assert.Multiple(() =>
        {
            Assert.That(pmd_pfn(large), Is.EqualTo(0x40000 + 8 * 256), "the 1G split gives 2M leaves of consecutive 2M frames");
            Assert.That(large & _PAGE_PSE, Is.Not.Zero);
            for (int i = 0; i < 512; i += 73)
            {
                ulong pte = Pte(k, va + (ulong)i * 4096);
                Assert.That(pte_pfn(pte), Is.EqualTo(0x40000 + 6 * 256 + i), $"entry {i}");
                Assert.That(pte_flags(pte), Is.EqualTo(pgprot_large_2_4k(pmd_flags(large))), $"entry {i}");
            }
            Assert.That(pte_pfn(Pte(k, va + 511 * 4096)), Is.EqualTo(0x40000 + 6 * 256 + 511));
            Assert.That(k.RunChecks(), Is.Empty);
        });
    }

    /// <summary>A not-present 1G leaf splits into not-present 2M entries without PSE, which would read as present large pages.</summary>
    [Test]
    public void ANotPresent1GLeafSplitsIntoEntriesWithoutPse()
    {
        var k = TestKernel.Boot();
        ulong va = KernelLayout.PAGE_OFFSET + 2 * TestKernel.GiB;
        k.SetMemory.NotPresent(va, 1 << 18);
        k.SetMemory.ReadOnly(va, 1);
        var pmd = k.lookup_address(va + 4 * TestKernel.MiB);
        ulong e = k.Walker.Read(pmd);
        Assert.Multiple(() =>
        {
            Assert.That(pmd.Level, Is.EqualTo(PageLevel.PG_LEVEL_2M));
            Assert.That(e & (_PAGE_PRESENT | _PAGE_PSE | _PAGE_GLOBAL), Is.Zero);
            Assert.That(pmd_pfn(e), Is.EqualTo((long)(2 * TestKernel.GiB >> 12) + 4 * 256));
            Assert.That(Pte(k, va) & (_PAGE_PRESENT | _PAGE_RW), Is.Zero);
            Assert.That(k.Walker.Translate(k.InitTopPgt, va + 4 * TestKernel.MiB), Is.Null);
        });
    }

    /// <summary>set_memory_np on a 2M leaf as a whole, then set_memory_p: the leaf is kept and comes back present and large.</summary>
    [Test]
    public void AWhole2MLeafGoesNotPresentAndBackWithoutASplit()
    {
        var k = TestKernel.Boot(pti: false);
        ulong va = KernelLayout.PAGE_OFFSET + 64 * TestKernel.MiB;
        ulong before = Pte(k, va);
        k.SetMemory.NotPresent(va, 512);
        ulong np = Pte(k, va);
        Assert.Multiple(() =>
        {
            Assert.That(k.lookup_address(va).Level, Is.EqualTo(PageLevel.PG_LEVEL_2M));
            Assert.That(np & (_PAGE_PRESENT | _PAGE_PSE | _PAGE_GLOBAL), Is.Zero, "PSE only on a present prot; GLOBAL would be PROTNONE");
            Assert.That(pmd_pfn(np), Is.EqualTo(pmd_pfn(before)));
        });
        k.SetMemory.Present(va, 512);
        ulong p = Pte(k, va);
        Assert.Multiple(() =>
        {
            Assert.That(k.lookup_address(va).Level, Is.EqualTo(PageLevel.PG_LEVEL_2M));
            Assert.That(p & (_PAGE_PRESENT | _PAGE_PSE), Is.EqualTo(_PAGE_PRESENT | _PAGE_PSE));
            Assert.That(pmd_pfn(p), Is.EqualTo(pmd_pfn(before)));
            Assert.That(k.Meminfo["DirectMap4k"], Is.EqualTo(2048), "nothing split");
        });
    }

    /// <summary>A request covering part of a large page, starting at its base or ending at its end, still splits it.</summary>
    [Test]
    public void PartOfALargePageSplitsIt()
    {
        var k = TestKernel.Boot();
        ulong va = KernelLayout.PAGE_OFFSET + 64 * TestKernel.MiB;
        k.SetMemory.ReadOnly(va, 511);
        k.SetMemory.ReadOnly(va + 2 * TestKernel.MiB + 4096, 511);
        Assert.Multiple(() =>
        {
            Assert.That(k.lookup_address(va).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
            Assert.That(Pte(k, va + 510 * 4096) & _PAGE_RW, Is.Zero);
            Assert.That(Pte(k, va + 511 * 4096) & _PAGE_RW, Is.Not.Zero);
            Assert.That(k.lookup_address(va + 2 * TestKernel.MiB).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
            Assert.That(Pte(k, va + 2 * TestKernel.MiB) & _PAGE_RW, Is.Not.Zero);
            Assert.That(Pte(k, va + 4 * TestKernel.MiB - 4096) & _PAGE_RW, Is.Zero);
        });
    }

    /// <summary>A request spanning large pages is cut at each boundary: every page of it changes, nothing past it.</summary>
    [Test]
    public void ARequestAcrossLargePagesChangesEachOfThem()
    {
        var k = TestKernel.Boot();
        ulong va = KernelLayout.PAGE_OFFSET + 64 * TestKernel.MiB + 508 * 4096;
        k.SetMemory.ReadOnly(va, 520); // 4 pages of one 2M leaf, a whole one, 4 of the next
        Assert.Multiple(() =>
        {
            Assert.That(Pte(k, va - 4096) & _PAGE_RW, Is.Not.Zero);
            for (int i = 0; i < 520; i += 37)
                Assert.That(Pte(k, va + (ulong)i * 4096) & _PAGE_RW, Is.Zero, $"page {i}");
            Assert.That(Pte(k, va + 519 * 4096) & _PAGE_RW, Is.Zero);
            Assert.That(Pte(k, va + 520 * 4096) & _PAGE_RW, Is.Not.Zero);
            Assert.That(k.lookup_address(va + 4 * 4096).Level, Is.EqualTo(PageLevel.PG_LEVEL_2M), "the whole 2M leaf in the middle is kept");
        });
    }

    [Test]
    public void TheFlushSeamCanAskForAFullFlush()
    {
        var k = TestKernel.Boot();
        k.SetMemory.FourK(SecondGiB, 1);
        CpaData? seen = null;
        k.Cpa.BeforeCpaFlush = cpa => { seen = cpa; return true; };
        long full = k.Tlbs.FullFlushes, pages = k.Tlbs.PageFlushes;
        k.SetMemory.ReadOnly(SecondGiB, 1);
        Assert.Multiple(() =>
        {
            Assert.That(k.Tlbs.FullFlushes, Is.EqualTo(full + 1));
            Assert.That(k.Tlbs.PageFlushes, Is.EqualTo(pages));
            Assert.That(seen!.Vaddr[0], Is.EqualTo(SecondGiB));
            Assert.That(seen.NumPages, Is.EqualTo(1), "the request as made, its page count restored after the steps");
        });
        k.Cpa.BeforeCpaFlush = _ => false;
        k.SetMemory.ReadWrite(SecondGiB, 1);
        Assert.That((k.Tlbs.FullFlushes, k.Tlbs.PageFlushes), Is.EqualTo((full + 1, pages + 1)));
    }

    /// <summary>The fault injection that skips cpa_flush's flush: the flush point's check sees the stale entry.</summary>
    [Test]
    public void ASkippedFlushLeavesAStaleTranslationThatTheFlushPointReports()
    {
        var k = TestKernel.Boot();
        k.SetMemory.FourK(SecondGiB, 1);
        k.Access(1, SecondGiB);
        k.Faults |= FaultInjection.SkipTlbFlush;
        k.SetMemory.ReadOnly(SecondGiB, 1);
        Assert.Multiple(() =>
        {
            Assert.That(k.Log.Warnings.Single().Kind, Is.EqualTo("stale-tlb"));
            Assert.That(k.Log.Warnings.Single().Message, Does.StartWith("cpa_flush: CPU 1 holds a stale translation of 0xffff888040000000"));
        });
    }

    /// <summary>set_direct_map_invalid_noflush / _default_noflush: the masks as given, no alias, no flush.</summary>
    [Test]
    public void TheNoFlushDirectMapHelperChangesOnePageAndFlushesNothing()
    {
        var k = TestKernel.Boot();
        long pfn = 0x40020;
        ulong va = k.DirectMapAddress(pfn);
        k.SetMemory.FourK(va, 1); // the split's flush_tlb_all now, not below
        k.Access(0, va);
        long calls = k.Cpa.Calls, full = k.Tlbs.FullFlushes, pages = k.Tlbs.PageFlushes;
        Assert.That(k.Cpa.set_direct_map_noflush(va, 0, _PAGE_PRESENT | _PAGE_RW), Is.Zero);
        Assert.Multiple(() =>
        {
            Assert.That(Pte(k, va) & (_PAGE_PRESENT | _PAGE_RW), Is.Zero);
            Assert.That(Pte(k, va + 4096) & _PAGE_PRESENT, Is.Not.Zero);
            Assert.That(k.Cpa.Calls, Is.EqualTo(calls + 1));
            Assert.That(k.Tlbs.PageFlushes, Is.EqualTo(pages), "the caller flushes");
            Assert.That(k.Tlbs.Cpus[0].Lookup(va), Is.Not.Null, "so the old translation is still cached");
        });
        Assert.That(k.Cpa.set_direct_map_noflush(va, _PAGE_PRESENT | _PAGE_RW, 0), Is.Zero);
        Assert.That(Pte(k, va) & (_PAGE_PRESENT | _PAGE_RW), Is.EqualTo(_PAGE_PRESENT | _PAGE_RW));
        // Not primary: a hole is skipped quietly.
        Assert.That(k.Cpa.set_direct_map_noflush(KernelLayout.VMALLOC_START + (1UL << 40), 0, _PAGE_RW), Is.Zero);
        Assert.That(k.Log.Warnings, Is.Empty);
    }

    /// <summary>
    /// A large page that breaks the static protections (a direct-map 2M page of .rodata made
    /// RW behind CPA's back): should_split_large_page splits it whatever the request, and
    /// split_set_pte takes RW off each of its 4K entries.
    /// </summary>
    [Test]
    public void ALargePageAgainstTheStaticProtectionsIsSplitAndFixedUp()
    {
        var k = TestKernel.Boot();
        long ro = (long)(Model.Boot.KernelImage.__pa_symbol(k.Image.__start_rodata) >> 12);
        ulong va = k.DirectMapAddress(ro);
        var e = k.lookup_address(va);
        Assert.That(e.Level, Is.EqualTo(PageLevel.PG_LEVEL_2M));
        k.Walker.Write(e, k.Walker.Read(e) | _PAGE_RW);
        k.SetMemory.NoExec(va + 3 * 4096, 1); // NX is set already: only the static check splits
        Assert.Multiple(() =>
        {
            Assert.That(k.Log.Warnings.Single().Kind, Is.EqualTo("cpa-static-prot"));
            Assert.That(k.Log.Warnings.Single().Message, Is.EqualTo($"WARNING: CPA: large page at 0x{va:x} conflicts with static protections; splitting"));
            Assert.That(k.lookup_address(va).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
            for (int i = 0; i < 512; i += 51)
            {
                Assert.That(Pte(k, va + (ulong)i * 4096) & _PAGE_RW, Is.Zero, $"entry {i}");
                Assert.That(pte_pfn(Pte(k, va + (ulong)i * 4096)), Is.EqualTo(ro + i), $"entry {i}");
            }
        });
    }

    /// <summary>The high map's kernel text with NX and RW behind CPA's back: the split entries lose NX (no NX on text) and RW (text mapped large is read-only) one by one.</summary>
    [Test]
    public void NxOnKernelTextIsTakenOffWhenItsLargePageIsSplit()
    {
        var k = TestKernel.Boot();
        ulong text = k.Image._text;
        var e = k.lookup_address(text);
        Assert.That(e.Level, Is.EqualTo(PageLevel.PG_LEVEL_2M));
        ulong before = k.Walker.Read(e);
        k.Walker.Write(e, before | _PAGE_NX | _PAGE_RW); // RW too: protect_kernel_text_ro forbids it while the text is mapped large
        k.SetMemory.Exec(text + 5 * 4096, 1);
        Assert.Multiple(() =>
        {
            Assert.That(k.Log.Warnings.Select(w => w.Kind), Does.Contain("cpa-static-prot"));
            Assert.That(k.lookup_address(text).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
            for (int i = 0; i < 512; i += 51)
            {
                ulong pte = Pte(k, text + (ulong)i * 4096);
                Assert.That(pte & _PAGE_NX, Is.Zero, $"entry {i}");
                Assert.That(pte & _PAGE_RW, Is.Zero, $"entry {i}: text stays read-only");
                Assert.That(pte & _PAGE_PRESENT, Is.Not.Zero, $"entry {i}");
            }
        });
    }

    /// <summary>An alias forces flush_tlb_all even when nothing was split: a one-page change through vmalloc.</summary>
    [Test]
    public void AnAliasChangeFlushesAllWithoutASplit()
    {
        var k = TestKernel.Boot();
        var area = k.Vmalloc.Vmalloc(4096);
        k.SetMemory.FourK(k.DirectMapAddress(area.Pages[0]), 1); // split the alias now
        long full = k.Tlbs.FullFlushes, pages = k.Tlbs.PageFlushes, splits = k.Cpa.Splits2M + k.Cpa.Splits1G;
        k.SetMemory.ReadOnly(area.Addr, 1);
        Assert.Multiple(() =>
        {
            Assert.That(k.Cpa.Splits2M + k.Cpa.Splits1G, Is.EqualTo(splits));
            Assert.That(k.Tlbs.FullFlushes, Is.EqualTo(full + 1), "force_flush_all");
            Assert.That(k.Tlbs.PageFlushes, Is.EqualTo(pages));
        });
    }

    /// <summary>The same through the high-map alias of an image page.</summary>
    [Test]
    public void AHighMapAliasChangeFlushesAllWithoutASplit()
    {
        var k = TestKernel.Boot();
        long pfn = k.Image.EmptyZeroPagePfn + 0x100;
        ulong direct = k.DirectMapAddress(pfn);
        ulong high = KernelLayout.__START_KERNEL_map + ((ulong)pfn << 12);
        k.SetMemory.FourK(high, 1); // splits the high map's 2M page (and the direct map's alias)
        k.SetMemory.FourK(direct, 1);
        long full = k.Tlbs.FullFlushes, pages = k.Tlbs.PageFlushes, splits = k.Cpa.Splits2M + k.Cpa.Splits1G;
        k.SetMemory.ReadOnly(direct, 1);
        Assert.Multiple(() =>
        {
            Assert.That(k.Cpa.Splits2M + k.Cpa.Splits1G, Is.EqualTo(splits));
            Assert.That(Pte(k, high) & _PAGE_RW, Is.Zero);
            Assert.That(k.Tlbs.FullFlushes, Is.EqualTo(full + 1), "force_flush_all for the high-map alias");
            Assert.That(k.Tlbs.PageFlushes, Is.EqualTo(pages));
        });
    }

    /// <summary>A change covering a whole 2M page of the high map's text keeps it large (static_protections' ftrace case: no RW check then).</summary>
    [Test]
    public void AWholeLargePageOfKernelTextMayBecomeWritableAndStaysLarge()
    {
        var k = TestKernel.Boot();
        ulong text = k.Image._text + (2UL << 20);
        k.SetMemory.ReadWrite(text, 512);
        Assert.Multiple(() =>
        {
            Assert.That(k.lookup_address(text).Level, Is.EqualTo(PageLevel.PG_LEVEL_2M));
            Assert.That(Pte(k, text) & _PAGE_RW, Is.Not.Zero);
        });
        k.SetMemory.ReadOnly(text, 512);
        k.SetMemory.ReadWrite(text + 4096, 1); // part of it: split, and the 4K entry may be RW
        Assert.Multiple(() =>
        {
            Assert.That(k.lookup_address(text).Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
            Assert.That(Pte(k, text + 4096) & _PAGE_RW, Is.Not.Zero);
            Assert.That(Pte(k, text) & _PAGE_RW, Is.Zero);
        });
    }

    /// <summary>vm_unmap_aliases first: a lazily freed vmalloc range may not keep an old alias of the pages being changed.</summary>
    [Test]
    public void ACpaRequestPurgesTheLazilyFreedVmallocRanges()
    {
        var k = TestKernel.Boot();
        var area = k.Vmalloc.Vmalloc(4 * 4096);
        k.Vmalloc.Vfree(area.Addr);
        Assert.That(k.Vmalloc.LazilyFreed, Is.Not.Empty);
        k.SetMemory.ReadOnly(SecondGiB, 1);
        Assert.That(k.Vmalloc.LazilyFreed, Is.Empty);
    }

    /// <summary>__split_large_page's flush_tlb_all, one per level split: set_memory_4k changes no attribute, so it is the only flush.</summary>
    [Test]
    public void EachSplitFlushesEveryTlb()
    {
        var k = TestKernel.Boot();
        k.Access(1, SecondGiB + 0x5000);
        long full = k.Tlbs.FullFlushes;
        k.SetMemory.FourK(SecondGiB, 1);
        Assert.Multiple(() =>
        {
            Assert.That(k.Tlbs.FullFlushes - full, Is.EqualTo(2), "1G to 2M, then 2M to 4K");
            Assert.That(k.Tlbs.Cpus[1].Lookup(SecondGiB + 0x5000), Is.Null, "the 1G translation is gone");
        });
    }
}
