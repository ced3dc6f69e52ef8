using KernelMm.Model.Memory;
using KernelMm.Model.Mm;
using KernelMm.Model.Stats;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Model.Tests.Mm;

public class ProcessTests
{
    private const long MiB = 1L << 20;

    private static ulong PteOf(Kernel k, Process p, ulong addr)
    {
        var e = k.Walker.LookupAddress(p.Mm.Pgd, addr);
        return e.IsNull ? 0 : k.Walker.Read(e);
    }

    [Test]
    public void SpawnMapsTheStackTopAndStartsTopDownBelowMmapBase()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("init");
        ulong a = p.Mmap(MiB);
        ulong b = p.Mmap(MiB);
        Assert.Multiple(() =>
        {
            Assert.That(p.Mm.Vmas[^1].ToString(), Is.EqualTo("7ffffffde000-7ffffffff000 rw-p"));
            Assert.That(a, Is.EqualTo(MmStruct.MMAP_BASE - (ulong)MiB));
            Assert.That(b, Is.EqualTo(a - (ulong)MiB));
            Assert.That(p.Mm.Vmas, Has.Count.EqualTo(2), "adjacent anonymous mappings merge");
            Assert.That(p.Status["VmPTE"], Is.EqualTo(12), "PUD + PMD + PTE for the stack page");
            Assert.That(p.Status["VmRSS"], Is.EqualTo(4));
        });
    }

    /// <summary>
    /// Faults allocate what is missing at each level:
    /// <code>
    ///   first touch in a new 512G region: PUD + PMD + PTE (+12 kB)
    ///   a new 1G region of the same 512G:       PMD + PTE (+8 kB)
    ///   a new 2M region of the same 1G:               PTE (+4 kB)
    ///   the same 2M region:                            -   (+0)
    /// </code>
    /// </summary>
    [Test]
    public void FaultsAllocateTablesAtEachLevel()
    {
        var k = TestKernel.Boot(memory: 8L << 30);
        var p = k.Spawn("faults");
        ulong region = 0x100000000000; // 512G-aligned, far from the stack
        p.Mmap(4L << 30, at: region);
        long v = p.Status["VmPTE"];
        long Step(ulong addr)
        {
            p.Touch(addr, 4096, Access.Write);
            long d = p.Status["VmPTE"] - v;
            v = p.Status["VmPTE"];
            return d;
        }
        Assert.Multiple(() =>
        {
            Assert.That(Step(region), Is.EqualTo(12));
            Assert.That(Step(region + (1UL << 30)), Is.EqualTo(8));
            Assert.That(Step(region + (1UL << 30) + (2UL << 20)), Is.EqualTo(4));
            Assert.That(Step(region + (1UL << 30) + (2UL << 20) + 4096), Is.EqualTo(0));
            Assert.That(k.VmStat[VmEventItem.PGFAULT], Is.GreaterThanOrEqualTo(4));
        });
    }

    [Test]
    public void ZeroPageThenWrite()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("zero");
        ulong a = p.Mmap(MiB);
        p.Touch(a, 4096, Access.Read);
        ulong zero = PteOf(k, p, a);
        Assert.Multiple(() =>
        {
            Assert.That(pte_pfn(zero), Is.EqualTo(k.ZeroPfn));
            Assert.That(zero & _PAGE_SPECIAL, Is.Not.Zero);
            Assert.That(zero & _PAGE_RW, Is.Zero);
            Assert.That(p.Status["VmRSS"], Is.EqualTo(4));
        });
        long anon = k.VmStat[VmStatItem.NR_ANON_MAPPED];
        p.Touch(a, 4096, Access.Write);
        ulong written = PteOf(k, p, a);
        Assert.Multiple(() =>
        {
            Assert.That(pte_pfn(written), Is.Not.EqualTo(k.ZeroPfn));
            Assert.That(written & (_PAGE_RW | _PAGE_DIRTY), Is.EqualTo(_PAGE_RW | _PAGE_DIRTY));
            Assert.That(p.Status["VmRSS"], Is.EqualTo(8));
            Assert.That(k.VmStat[VmStatItem.NR_ANON_MAPPED], Is.EqualTo(anon + 1));
            Assert.That(k.Frames.Peek(k.ZeroPfn).OwnerKind, Is.EqualTo(PageOwnerKind.ZeroPage));
        });
    }

    [Test]
    public void ForkSharesPagesCopyOnWriteAndBothSidesWriting()
    {
        var k = TestKernel.Boot();
        var parent = k.Spawn("parent");
        ulong a = parent.Mmap(MiB);
        parent.Touch(a, 4096, Access.Write);
        long pfn = pte_pfn(PteOf(k, parent, a));
        var child = parent.Fork("child");
        Assert.Multiple(() =>
        {
            Assert.That(pte_pfn(PteOf(k, child, a)), Is.EqualTo(pfn));
            Assert.That(PteOf(k, parent, a) & _PAGE_RW, Is.Zero, "write-protected in the parent");
            Assert.That(PteOf(k, child, a) & _PAGE_RW, Is.Zero, "and in the child");
            Assert.That(k.Frames.Peek(pfn).RefCount, Is.EqualTo(2));
            Assert.That(k.Frames.Peek(pfn).MapCount, Is.EqualTo(1), "_mapcount is mappings - 1");
            Assert.That(child.Status["VmRSS"], Is.EqualTo(parent.Status["VmRSS"]));
        });
        child.Touch(a, 4096, Access.Write);
        Assert.Multiple(() =>
        {
            Assert.That(pte_pfn(PteOf(k, child, a)), Is.Not.EqualTo(pfn), "the first writer copies");
            Assert.That(k.Frames.Peek(pfn).RefCount, Is.EqualTo(1));
        });
        parent.Touch(a, 4096, Access.Write);
        Assert.Multiple(() =>
        {
            Assert.That(pte_pfn(PteOf(k, parent, a)), Is.EqualTo(pfn), "the last one reuses the page");
            Assert.That(PteOf(k, parent, a) & _PAGE_RW, Is.Not.Zero);
            Assert.That(k.Tlbs.CheckCoherence(k.Walker, c => k.Tlbs.Cpus[c].CurrentPgd, k.Log, "fork"), Is.Zero);
        });
    }

    /// <summary>
    /// munmap frees a PTE table only when no remaining VMA shares its 2M range:
    /// <code>
    ///   |-- 2M table range --------------------------|
    ///   [ A: 1M ][ B: 1M ]      munmap B: A still uses the table
    ///   [ A: 1M ]               munmap A: the table goes
    /// </code>
    /// </summary>
    [Test]
    public void MunmapFreesTablesOnlyWhenTheirWholeRangeGoes()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("munmap");
        ulong at = 0x200000000000;
        p.Mmap(MiB, at: at);
        p.Mmap(MiB, Prot.Read, at: at + (ulong)MiB); // different flags: two VMAs
        p.Touch(at, MiB, Access.Write);
        p.Touch(at + (ulong)MiB, MiB, Access.Read);
        long withTables = p.Status["VmPTE"];
        p.Munmap(at + (ulong)MiB, MiB);
        Assert.That(p.Status["VmPTE"], Is.EqualTo(withTables), "A still needs the PTE table");
        p.Munmap(at, MiB);
        Assert.That(p.Status["VmPTE"], Is.EqualTo(withTables - 12), "PTE, PMD and PUD tables of that region go");
    }

    [Test]
    public void MprotectSplitsAVmaAndRewritesEntries()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("mprotect");
        ulong a = p.Mmap(4 * 4096);
        p.Touch(a, 4 * 4096, Access.Write);
        p.Mprotect(a + 4096, 4096, Prot.Read);
        var vmas = p.Mm.Vmas.Where(v => v.Start >= a && v.End <= a + 4 * 4096).Select(v => v.ToString()).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(vmas, Has.Length.EqualTo(3));
            Assert.That(vmas[1], Does.EndWith("r--p"));
            Assert.That(PteOf(k, p, a + 4096) & _PAGE_RW, Is.Zero);
            Assert.That(PteOf(k, p, a) & _PAGE_RW, Is.Not.Zero);
            var ex = Assert.Throws<KernelErrnoException>(() => p.Touch(a + 4096, 1, Access.Write));
            Assert.That(ex!.Errno, Is.EqualTo(Errno.EFAULT));
        });
        p.Mprotect(a + 4096, 4096, Prot.Read | Prot.Write);
        Assert.That(p.Mm.Vmas.Count(v => v.Start >= a && v.End <= a + 4 * 4096), Is.EqualTo(1), "the VMAs merge again");
    }

    [Test]
    public void ExitLeavesNoFrameBehind()
    {
        var k = TestKernel.Boot(pti: false);
        long free0 = k.VmStat[VmStatItem.NR_FREE_PAGES];
        var p = k.Spawn("exit");
        ulong a = p.Mmap(8 * MiB);
        p.Touch(a, 8 * MiB, Access.Write);
        var c = p.Fork("child");
        c.Touch(a, MiB, Access.Write);
        c.ModifyLdt(1024);
        p.ModifyLdt(16);
        c.Exit();
        p.Exit();
        Assert.Multiple(() =>
        {
            // The 8 KiB LDT came from vmalloc, whose PMD and PTE tables the kernel never frees.
            Assert.That(k.VmStat[VmStatItem.NR_FREE_PAGES], Is.EqualTo(free0 - 2));
            Assert.That(k.VmStat[VmStatItem.NR_PAGETABLE], Is.EqualTo(1), "the vmalloc PMD table");
            Assert.That(k.VmStat[VmStatItem.NR_ANON_MAPPED], Is.Zero);
            Assert.That(k.VmStat[VmStatItem.NR_KERNEL_STACK_KB], Is.EqualTo(16), "only the idle task's stack");
            Assert.That(k.Log.Warnings, Is.Empty);
            Assert.That(k.Processes, Is.Empty);
        });
    }

    [Test]
    public void BadCallsGetTheKernelsErrno()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("bad");
        Assert.Multiple(() =>
        {
            Assert.That(Assert.Throws<KernelErrnoException>(() => p.Mmap(0))!.Errno, Is.EqualTo(Errno.EINVAL));
            Assert.That(Assert.Throws<KernelErrnoException>(() => p.Mmap(4096, at: 0x10001))!.Errno, Is.EqualTo(Errno.EINVAL));
            Assert.That(Assert.Throws<KernelErrnoException>(() => p.Mmap(64L << 30))!.Errno, Is.EqualTo(Errno.ENOMEM));
            Assert.That(Assert.Throws<KernelErrnoException>(() => p.Munmap(0x1001, 4096))!.Errno, Is.EqualTo(Errno.EINVAL));
            Assert.That(Assert.Throws<KernelErrnoException>(() => p.Munmap(0x100000, 0))!.Errno, Is.EqualTo(Errno.EINVAL));
            Assert.That(Assert.Throws<KernelErrnoException>(() => p.Mprotect(0x100000, 4096, Prot.Read))!.Errno, Is.EqualTo(Errno.ENOMEM));
            Assert.That(Assert.Throws<KernelErrnoException>(() => p.Madvise(0x100001, 4096, Advice.DontNeed))!.Errno, Is.EqualTo(Errno.EINVAL));
            Assert.That(Assert.Throws<KernelErrnoException>(() => p.Touch(0x100000, 1, Access.Read))!.Message, Does.Contain("SIGSEGV"));
            Assert.That(Assert.Throws<KernelErrnoException>(() => p.ModifyLdt(100000))!.Errno, Is.EqualTo(Errno.EINVAL));
        });
        p.Exit();
        var ex = Assert.Throws<KernelErrnoException>(() => p.Mmap(4096));
        Assert.That(ex!.Errno, Is.EqualTo(Errno.ESRCH));
        Assert.That(ex.Message, Does.StartWith("mmap: -ESRCH"));
    }

    [Test]
    public void MadvFreePagesAreReclaimedUnlessWrittenAgain()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("lazyfree");
        ulong a = p.Mmap(2 * 4096);
        p.Touch(a, 2 * 4096, Access.Write);
        p.Madvise(a, 2 * 4096, Advice.Free);
        p.Touch(a + 4096, 4096, Access.Write); // dirtied again: must survive
        long rss = p.Status["VmRSS"];
        long freed = k.Reclaim();
        Assert.Multiple(() =>
        {
            Assert.That(freed, Is.EqualTo(1));
            Assert.That(p.Status["VmRSS"], Is.EqualTo(rss - 4));
            Assert.That(k.VmStat[VmEventItem.PGLAZYFREE], Is.EqualTo(2));
            Assert.That(k.VmStat[VmEventItem.PGLAZYFREED], Is.EqualTo(1));
            Assert.That(PteOf(k, p, a), Is.Zero);
            Assert.That(PteOf(k, p, a + 4096) & _PAGE_PRESENT, Is.Not.Zero);
        });
    }

    [Test]
    public void OutOfMemoryKillsTheBiggestTask()
    {
        var k = TestKernel.Boot(memory: 256L << 20);
        var small = k.Spawn("small");
        var hog = k.Spawn("hog");
        long all = k.TotalRamPages * 4096;
        ulong a = hog.Mmap(all);
        hog.Touch(a, all, Access.Write);
        Assert.Multiple(() =>
        {
            Assert.That(hog.Alive, Is.False);
            Assert.That(small.Alive, Is.True);
            Assert.That(k.Log.Warnings.Single(w => w.Kind == "oom-kill").Message, Does.StartWith($"Out of memory: Killed process {hog.Pid} (hog)"));
        });
    }

    [Test]
    public void UserPageTablesRenderUnderTheUserSpaceMarker()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("dump");
        ulong a = p.Mmap(3 * 4096, at: 0x400000);
        p.Touch(a, 4096, Access.Write);
        p.Touch(a + 4096, 4096, Access.Read);
        var lines = p.DumpUserPageTables().Split('\n');
        Assert.Multiple(() =>
        {
            Assert.That(lines[0], Is.EqualTo("---[ User Space ]---"));
            Assert.That(lines, Does.Contain("0x0000000000400000-0x0000000000401000           4K USR RW                     NX pte"));
            Assert.That(lines, Does.Contain("0x0000000000401000-0x0000000000402000           4K USR ro                     NX pte"));
        });
    }
}
