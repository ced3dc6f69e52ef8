using KernelMm.Model.Mm;
using KernelMm.Model.Paging;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Tests.Paging;

public class PageWalkerTests
{
    [Test]
    public void LookupAddressReturnsTheLevelOfEachLeaf()
    {
        var k = TestKernel.Boot();
        // 1G leaf: the second gigabyte of the direct map; 2M leaf: the first gigabyte (split by mark_rodata_ro).
        var gb = k.lookup_address(KernelLayout.PAGE_OFFSET + TestKernel.GiB);
        var mb = k.lookup_address(KernelLayout.PAGE_OFFSET + 64 * TestKernel.MiB);
        var area = k.Vmalloc.Vmalloc(4096);
        var small = k.lookup_address(area.Addr);
        var none = k.lookup_address(0x1000);
        Assert.Multiple(() =>
        {
            Assert.That(gb.Level, Is.EqualTo(PageLevel.PG_LEVEL_1G));
            Assert.That(pud_pfn(k.Walker.Read(gb)), Is.EqualTo(0x40000));
            Assert.That(mb.Level, Is.EqualTo(PageLevel.PG_LEVEL_2M));
            Assert.That(pmd_pfn(k.Walker.Read(mb)), Is.EqualTo(64 * 256));
            Assert.That(small.Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
            Assert.That(pte_pfn(k.Walker.Read(small)), Is.EqualTo(area.Pages[0]));
            Assert.That(none.IsNull, Is.True, "an empty pgd entry gives NULL");
        });
    }

    [Test]
    public void TranslateGivesEffectivePermissionsAndTheFrame()
    {
        var k = TestKernel.Boot();
        ulong va = KernelLayout.PAGE_OFFSET + TestKernel.GiB + 0x5000;
        var t = k.Walker.Translate(k.InitTopPgt, va);
        Assert.That(t, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(t!.Value.Level, Is.EqualTo(PageLevel.PG_LEVEL_1G));
            Assert.That(t.Value.PfnOf(va), Is.EqualTo(0x40005));
            Assert.That(t.Value.Flags & _PAGE_NX, Is.Not.Zero);
            Assert.That(t.Value.Flags & _PAGE_USER, Is.Zero, "kernel table entries have no USER, so the leaf is not user-accessible");
            Assert.That(k.Walker.Translate(k.InitTopPgt, 0x400000), Is.Null);
        });
    }

    private const ulong UserAt = 0x300000000000;

    /// <summary>RW and USER are ANDed down the levels, NX ORed: a table entry without RW makes every page under it read-only.</summary>
    [Test]
    public void EachLevelCanTakeRightsAwayFromThePagesBelow()
    {
        var k = TestKernel.Boot(pti: false);
        var p = k.Spawn("walk");
        p.Mmap(4096, at: UserAt);
        p.Touch(UserAt, 4096, Access.Write);
        var t = k.Walker.Translate(p.Mm.Pgd, UserAt)!.Value;
        Assert.That(t.Flags & (_PAGE_RW | _PAGE_USER | _PAGE_NX), Is.EqualTo(_PAGE_RW | _PAGE_USER | _PAGE_NX));
        ulong g = k.Tables[p.Mm.Pgd][pgd_index(UserAt)];
        var pud = k.Tables[pte_pfn(g)];
        ulong u = pud[pud_index(UserAt)];
        var pmd = k.Tables[pud_pfn(u)];
        ulong m = pmd[pmd_index(UserAt)];
        var pte = k.Tables[pmd_pfn(m)];
        pte[pte_index(UserAt)] &= ~_PAGE_NX;
        Assert.That(k.Walker.Translate(p.Mm.Pgd, UserAt)!.Value.Flags & _PAGE_NX, Is.Zero, "executable when no level says NX");
        pud[pud_index(UserAt)] = u | _PAGE_NX;
        Assert.That(k.Walker.Translate(p.Mm.Pgd, UserAt)!.Value.Flags & _PAGE_NX, Is.Not.Zero, "NX at the PUD level");
        pud[pud_index(UserAt)] = u;
        pmd[pmd_index(UserAt)] = m & ~_PAGE_RW;
        var ro = k.Walker.Translate(p.Mm.Pgd, UserAt)!.Value;
        Assert.Multiple(() =>
        {
            Assert.That(ro.Flags & _PAGE_RW, Is.Zero, "the PMD entry took RW away");
            Assert.That(ro.Flags & _PAGE_USER, Is.Not.Zero);
            Assert.That(ro.Flags & _PAGE_DIRTY, Is.Not.Zero, "the leaf's own bits stay");
            Assert.That(ro.BasePfn, Is.EqualTo(pte_pfn(pte[pte_index(UserAt)])));
            Assert.That(ro.TablePfn, Is.EqualTo(pmd_pfn(m)), "the table that holds the leaf");
        });
        pmd[pmd_index(UserAt)] = m;
        var pgd = k.Tables[p.Mm.Pgd];
        pgd[pgd_index(UserAt)] = g & ~_PAGE_USER;
        Assert.That(k.Walker.Translate(p.Mm.Pgd, UserAt)!.Value.Flags & _PAGE_USER, Is.Zero, "the pgd entry took USER away");
    }

    /// <summary>A walk through an mm's PTE table cache answers as the full walk does, for present, none and other-table addresses.</summary>
    [Test]
    public void AWalkThroughTheCacheAnswersAsTheFullWalk()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("cache");
        p.Mmap(8 * 4096, at: UserAt);
        p.Touch(UserAt, 4 * 4096, Access.Write);
        p.Mmap(4096, at: UserAt + (4UL << 20));
        p.Touch(UserAt + (4UL << 20), 4096, Access.Read);
        var cache = new PteTableCache();
        ulong[] probes = [UserAt, UserAt + 4096, UserAt + 5 * 4096, UserAt + (4UL << 20), UserAt + (4UL << 20) + 4096, UserAt + 3 * 4096, 0x1000, UserAt + 2 * 4096];
        foreach (ulong va in probes)
        {
            bool full = k.Walker.Walk(p.Mm.Pgd, va, out var t1, out var l1);
            bool cached = k.Walker.Walk(p.Mm.Pgd, va, cache, out var t2, out var l2);
            bool again = k.Walker.Walk(p.Mm.Pgd, va, cache, out var t3, out var l3); // now a hit if it has a PTE table
            Assert.Multiple(() =>
            {
                Assert.That((cached, again), Is.EqualTo((full, full)), $"0x{va:x}");
                if (full)
                {
                    Assert.That(l1.Level, Is.EqualTo(PageLevel.PG_LEVEL_4K), $"0x{va:x}");
                    Assert.That(t2, Is.EqualTo(t1), $"0x{va:x}");
                    Assert.That(t3, Is.EqualTo(t1), $"0x{va:x}");
                    Assert.That(l3, Is.EqualTo(l1), $"0x{va:x}");
                }
                else
                {
                    Assert.That(l3.IsNull, Is.True, $"0x{va:x}");
                }
            });
        }
        // The cache follows a change of rights in the table above (a new generation).
        var pmdSlot = k.Walker.LookupAddress(p.Mm.Pgd, UserAt);
        ulong g = k.Tables[p.Mm.Pgd][pgd_index(UserAt)];
        var pmd = k.Tables[pud_pfn(k.Tables[pte_pfn(g)][pud_index(UserAt)])];
        pmd[pmd_index(UserAt)] &= ~_PAGE_RW;
        Assert.That(k.Walker.Walk(p.Mm.Pgd, UserAt, cache, out var ro, out _), Is.True);
        Assert.That(ro.Flags & _PAGE_RW, Is.Zero);
        Assert.That(pmdSlot.Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
        pmd[pmd_index(UserAt)] &= ~_PAGE_USER;
        Assert.That(k.Walker.Walk(p.Mm.Pgd, UserAt, cache, out _, out _), Is.True);
        Assert.That(k.Walker.Walk(p.Mm.Pgd, UserAt + 4096, cache, out var kernelOnly, out _), Is.True, "a hit in the refilled cache");
        Assert.That(kernelOnly.Flags & (_PAGE_USER | _PAGE_RW), Is.Zero, "the cache keeps the rights of the levels above");
        Assert.That(kernelOnly.Flags & _PAGE_NX, Is.Not.Zero);
    }

    [Test]
    public void LookupStopsAtANotPresentEntryOfItsLevel()
    {
        var k = TestKernel.Boot();
        ulong gb = KernelLayout.PAGE_OFFSET + 2 * TestKernel.GiB;
        ulong mb = KernelLayout.PAGE_OFFSET + 64 * TestKernel.MiB;
        k.SetMemory.NotPresent(mb, 512);
        var e2 = k.lookup_address(mb + 0x5000);
        Assert.Multiple(() =>
        {
            Assert.That(e2.Level, Is.EqualTo(PageLevel.PG_LEVEL_2M), "a not-present PMD stops the walk");
            Assert.That(e2.Index, Is.EqualTo(pmd_index(mb)));
            Assert.That(k.Walker.Translate(k.InitTopPgt, mb + 0x5000), Is.Null);
        });
        var e1 = k.lookup_address(gb + 0x12345000);
        Assert.Multiple(() =>
        {
            Assert.That(e1.Level, Is.EqualTo(PageLevel.PG_LEVEL_1G));
            Assert.That(e1.Index, Is.EqualTo(pud_index(gb)));
        });
    }

    /// <summary>A large leaf's PAT bit is bit 12; the translation gives it in 4K form (bit 7) and keeps it out of the frame.</summary>
    [Test]
    public void ALargeLeafsTranslationIsIn4KForm()
    {
        var k = TestKernel.Boot();
        ulong mb = KernelLayout.PAGE_OFFSET + 64 * TestKernel.MiB;
        var e = k.lookup_address(mb);
        k.Walker.Write(e, k.Walker.Read(e) | _PAGE_PAT_LARGE);
        var t = k.Walker.Translate(k.InitTopPgt, mb + 0x3000)!.Value;
        ulong gb = KernelLayout.PAGE_OFFSET + 2 * TestKernel.GiB;
        var e1 = k.lookup_address(gb);
        k.Walker.Write(e1, k.Walker.Read(e1) | _PAGE_PAT_LARGE);
        var t1 = k.Walker.Translate(k.InitTopPgt, gb + 0x3000)!.Value;
        Assert.Multiple(() =>
        {
            Assert.That(t.Level, Is.EqualTo(PageLevel.PG_LEVEL_2M));
            Assert.That(t.VirtualBase, Is.EqualTo(mb));
            Assert.That(t.BasePfn, Is.EqualTo(64 * 256));
            Assert.That(t.PfnOf(mb + 0x3000), Is.EqualTo(64 * 256 + 3));
            Assert.That(t.Flags & _PAGE_PAT, Is.Not.Zero, "PAT in 4K form");
            Assert.That(t.Flags & _PAGE_PAT_LARGE, Is.Zero);
            Assert.That(t.Flags & PTE_PFN_MASK, Is.Zero, "no frame bits among the flags");
            Assert.That(t.Size, Is.EqualTo(2UL << 20));
            Assert.That(t1.Level, Is.EqualTo(PageLevel.PG_LEVEL_1G));
            Assert.That(t1.VirtualBase, Is.EqualTo(gb));
            Assert.That(t1.BasePfn, Is.EqualTo((long)(2 * TestKernel.GiB >> 12)));
            Assert.That(t1.Flags & (_PAGE_PAT | _PAGE_PAT_LARGE), Is.EqualTo(_PAGE_PAT));
            Assert.That(t1.Flags & PTE_PFN_MASK, Is.Zero);
            Assert.That(t1.Size, Is.EqualTo(TestKernel.GiB));
        });
    }

    /// <summary>MapsUniformly: a 1G range split to 2M and 4K with the same attributes still maps as one; one page changed breaks it there.</summary>
    [Test]
    public void MapsUniformlyLooksPastSplitsAndNamesTheFirstMismatch()
    {
        var k = TestKernel.Boot();
        ulong gb = KernelLayout.PAGE_OFFSET + TestKernel.GiB;
        var large = k.Walker.Translate(k.InitTopPgt, gb)!.Value;
        k.SetMemory.FourK(gb + 6 * TestKernel.MiB, 1);
        Assert.That(k.Walker.MapsUniformly(k.InitTopPgt, gb, TestKernel.GiB, large.BasePfn, large.Flags, out _, out var none), Is.True);
        Assert.That(none, Is.Null);
        ulong bad = gb + 6 * TestKernel.MiB + 5 * 4096;
        k.SetMemory.ReadOnly(bad, 1);
        Assert.That(k.Walker.MapsUniformly(k.InitTopPgt, gb, TestKernel.GiB, large.BasePfn, large.Flags, out ulong at, out var now), Is.False);
        Assert.Multiple(() =>
        {
            Assert.That(at, Is.EqualTo(bad));
            Assert.That(now!.Value.Level, Is.EqualTo(PageLevel.PG_LEVEL_4K));
            Assert.That(now.Value.Flags & _PAGE_RW, Is.Zero);
            Assert.That(k.Walker.MapsUniformly(k.InitTopPgt, gb, TestKernel.GiB, large.BasePfn + 1, large.Flags, out ulong at2, out _), Is.False);
            Assert.That(at2, Is.EqualTo(gb), "another frame fails at the first page");
            Assert.That(k.Walker.MapsUniformly(k.InitTopPgt, gb, 6 * TestKernel.MiB + 5 * 4096, large.BasePfn, large.Flags, out _, out _), Is.True, "up to the changed page");
            Assert.That(k.Walker.MapsUniformly(k.InitTopPgt, 0x1000, 4096, 1, large.Flags, out ulong at3, out var hole), Is.False);
            Assert.That((at3, hole), Is.EqualTo((0x1000UL, (Translation?)null)), "not mapped at all");
        });
    }

    [Test]
    public void TracePathNamesEachEntryAWalkReads()
    {
        var k = TestKernel.Boot(pti: false);
        ulong va = KernelLayout.PAGE_OFFSET + TestKernel.GiB + 0x3000;
        k.SetMemory.FourK(va, 1);
        var pte = k.lookup_address(va);
        Span<ulong> path = stackalloc ulong[6];
        int n = k.Walker.TracePath(k.InitTopPgt, va & PAGE_MASK, PAGE_SIZE, path);
        Assert.That(n, Is.EqualTo(4), "pgd, pud, pmd and pte entries");
        Assert.That(path[3], Is.EqualTo(PageTableStore.PathKey(k.Tables.IdOf(pte.TablePfn), pte_index(va))));
        Assert.That(path[0], Is.EqualTo(PageTableStore.PathKey(k.Tables.IdOf(k.InitTopPgt), pgd_index(va))));

        // A 2M translation over the split table reads all of it: one key for the whole table.
        n = k.Walker.TracePath(k.InitTopPgt, va & ~(PMD_SIZE - 1), PMD_SIZE, path);
        Assert.That(n, Is.EqualTo(4));
        Assert.That(path[3], Is.EqualTo(PageTableStore.PathKey(k.Tables.IdOf(pte.TablePfn), PageTableStore.AnyIndex)));

        Assert.That(k.Walker.TracePath(k.InitTopPgt, 0x1000, PAGE_SIZE, path), Is.EqualTo(-1), "not present");
        Assert.That(k.Walker.TracePath(k.InitTopPgt, va & PAGE_MASK, PAGE_SIZE, path[..3]), Is.EqualTo(-1), "more than the span holds");
    }
}
