using KernelMm.Model;
using KernelMm.Model.Boot;
using KernelMm.Model.Mm;
using KernelMm.Model.Paging;
using KernelMm.Model.Stats;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Patches.Tests;

public class PteRefcountTests
{
    private const long MiB = 1L << 20;
    private const ulong At = 0x600000000000;

    private static (Kernel K, PteRefcount P, Process Proc) Boot(long memory = 4L << 30, params IPatch[] more)
    {
        var patch = new PteRefcount();
        var k = PatchedKernel.Boot(new BootOptions(MemoryBytes: memory), [.. more, patch]);
        return (k, patch, k.Spawn("app"));
    }

    private static long Table(Process p) => p.Mm.PteTablesInVmas().Single(t => t.Addr == At).PtePfn;

    [Test]
    public void CountsFollowEachKindOfEntryChange()
    {
        var (k, patch, p) = Boot();
        p.Mmap(2 * MiB, at: At);
        p.Touch(At, 3 * 4096, Access.Read);                    // three zero-page entries
        long t = Table(p);
        Assert.That((PteRefcount.MappedCount(patch.For(k).RefcountOf(t)), PteRefcount.ZeroCount(patch.For(k).RefcountOf(t))), Is.EqualTo((3UL, 3UL)));
        p.Touch(At, 4096, Access.Write);                       // zero -> anonymous page (cleared, then set)
        Assert.That((PteRefcount.MappedCount(patch.For(k).RefcountOf(t)), PteRefcount.ZeroCount(patch.For(k).RefcountOf(t))), Is.EqualTo((3UL, 2UL)));
        p.Touch(At + 8 * 4096, 4096, Access.Write);            // none -> anonymous page
        p.Mprotect(At, 2 * MiB, Prot.Read);                    // entries rewritten, counts unchanged
        Assert.That((PteRefcount.MappedCount(patch.For(k).RefcountOf(t)), PteRefcount.ZeroCount(patch.For(k).RefcountOf(t))), Is.EqualTo((4UL, 2UL)));
        p.Madvise(At, 2 * MiB, Advice.DontNeed);               // all cleared
        Assert.That(patch.For(k).RefcountOf(t), Is.Zero);
        Assert.That(k.RunChecks(), Is.Empty);
    }

    [Test]
    public void QualificationEmptyAllZeroAndMixed()
    {
        var (k, patch, p) = Boot();
        p.Mmap(6 * MiB, at: At);
        p.Touch(At, 2 * MiB, Access.Read);                                   // table 0: all zero page
        p.Touch(At + 2 * (ulong)MiB, 4096, Access.Write);
        p.Madvise(At + 2 * (ulong)MiB, 4096, Advice.DontNeed);               // table 1: empty
        p.Touch(At + 4 * (ulong)MiB, 2 * MiB, Access.Read);
        p.Touch(At + 4 * (ulong)MiB, 4096, Access.Write);                    // table 2: 511 zero + 1 real page
        var tables = p.Mm.PteTablesInVmas().Where(x => x.Addr >= At && x.Addr < At + 6 * (ulong)MiB).Select(x => x.PtePfn).ToArray();
        Assert.That(tables.Select(patch.For(k).Qualifies), Is.EqualTo(new[] { true, true, false }));

        long vmpte = p.Status["VmPTE"], nr = k.VmStat[VmStatItem.NR_PAGETABLE];
        Assert.That(k.Sysctl.Write(PteRefcount.Sysctl, p.Pid), Is.True);
        Assert.Multiple(() =>
        {
            Assert.That(vmpte - p.Status["VmPTE"], Is.EqualTo(8));
            Assert.That(nr - k.VmStat[VmStatItem.NR_PAGETABLE], Is.EqualTo(2));
            Assert.That(p.Mm.PteTablesInVmas().Count(x => x.Addr >= At && x.Addr < At + 6 * (ulong)MiB), Is.EqualTo(1), "the table with one real page stays");
            Assert.That(patch.For(k).Freed, Is.EqualTo(2), "the stack's table maps a real page and stays too");
            Assert.That(k.RunChecks(), Is.Empty);
            Assert.That(k.Log.Warnings, Is.Empty);
        });
        p.Touch(At, 4096, Access.Read); // faults the table back in
        Assert.That(k.RunChecks(), Is.Empty);
    }

    /// <summary>An entry written behind track_pte_set's back (a real page where the zero page was): the invariant names the count that disagrees.</summary>
    [Test]
    public void ACountThatDisagreesWithItsTableIsReported()
    {
        var (k, _, p) = Boot();
        p.Mmap(2 * MiB, at: At);
        p.Touch(At, 2 * MiB, Access.Read);                     // 512 zero-page entries
        long t = Table(p);
        var table = k.Tables[t];
        table[5] = PageBits.pfn_pte(k.AllocPages(0), PageBits.pte_flags(table[5]));
        Assert.That(k.RunChecks().Where(w => w.Kind == "pte-refcount").Select(w => w.Message),
            Is.EqualTo(new[] { $"table pfn:{t:x5}: pte_refcount says 512 mapped, 512 zero; the table has 512 and 511" }));
    }

    [Test]
    public void WithoutThePatchTheSysctlDoesNotExist()
    {
        var k = PatchedKernel.Boot();
        var p = k.Spawn("app");
        Assert.That(k.Sysctl.Write(PteRefcount.Sysctl, p.Pid), Is.False);
    }

    [Test]
    public void FreedTablesLeaveNoStaleTranslation()
    {
        var (k, patch, p) = Boot();
        p.Mmap(2 * MiB, at: At);
        p.Touch(At, 2 * MiB, Access.Read);
        p.Touch(At, 4096, Access.Read); // the 64-entry TLB dropped the first page while the rest were touched
        Assert.That(k.Tlbs.Cpus[p.Cpu].Lookup(At), Is.Not.Null, "the zero-page translation is cached");
        k.Sysctl.Write(PteRefcount.Sysctl, p.Pid);
        Assert.That(patch.For(k).Freed, Is.EqualTo(1), "the all-zero-page table was freed");
        Assert.That(k.Log.Warnings, Is.Empty, "flush_tlb_range ran before __free_page");
        Assert.That(k.Tlbs.Cpus[p.Cpu].Lookup(At), Is.Null);
    }

    [Test]
    public void APidWithNoProcessIsEsrch()
    {
        var (k, _, p) = Boot();
        var gone = k.Spawn("gone");
        gone.Exit();
        Assert.Multiple(() =>
        {
            foreach (long pid in new long[] { gone.Pid, 99999 })
            {
                var ex = Assert.Throws<KernelErrnoException>(() => k.Sysctl.Write(PteRefcount.Sysctl, pid));
                Assert.That(ex!.Errno, Is.EqualTo(Errno.ESRCH), $"find_task_by_vpid({pid})");
            }
            var negative = Assert.Throws<KernelErrnoException>(() => k.Sysctl.Write(PteRefcount.Sysctl, -1));
            Assert.That(negative!.Errno, Is.EqualTo(Errno.EINVAL), "proc_dointvec_minmax: extra1 is 0");
            Assert.That(k.Sysctl.Write(PteRefcount.Sysctl, p.Pid), Is.True);
        });
    }

    [Test]
    public void ATableWhoseCountsLieIsUnlinkedAndTheDebugVmCheckBugs()
    {
        var (k, patch, p) = Boot();
        p.Mmap(4 * MiB, at: At);
        p.Touch(At, 2 * MiB, Access.Read);                      // an all-zero-page table: it qualifies
        p.Touch(At + 2 * (ulong)MiB, 4096, Access.Write);       // a table with a real page after it
        long t = Table(p);
        long page = pte_pfn(k.Walker.Read(k.Walker.LookupAddress(p.Mm.Pgd, At + 2 * (ulong)MiB)));
        // An entry written behind track_pte_set's back (a set_pte_at the series did not convert):
        // the counts still say 512 zero-page entries.
        var table = k.Tables[t];
        table[7] = (table[7] & ~PTE_PFN_MASK) | ((ulong)page << 12);
        long vmpte = p.Status["VmPTE"], nr = k.VmStat[VmStatItem.NR_PAGETABLE];
        k.Sysctl.Write(PteRefcount.Sysctl, p.Pid);
        Assert.Multiple(() =>
        {
            Assert.That(k.Log.Warnings.Select(w => w.Message), Has.Some.EqualTo("kernel BUG at mm/pte_ref.c:124!"), "pte_free_debug's BUG_ON");
            Assert.That(p.Mm.PteTablesInVmas().Any(x => x.Addr == At), Is.False, "pmd_clear ran before the check");
            Assert.That(k.Tlbs.Cpus[p.Cpu].Lookup(At), Is.Null, "and so did flush_tlb_range");
            Assert.That(patch.For(k).Freed, Is.Zero, "the oops ends the walk before __free_page");
            Assert.That(p.Status["VmPTE"], Is.EqualTo(vmpte), "mm_dec_nr_ptes never ran");
            Assert.That(k.VmStat[VmStatItem.NR_PAGETABLE], Is.EqualTo(nr), "nor the dtor");
            Assert.That(k.Frames.Peek(t).Has(Model.Memory.PageFlags.PG_table), Is.True, "the table page is leaked as a table");
        });
    }

    [Test]
    public void InTheBaseMemcgFreeingAChargedTableIsBadPageState()
    {
        var patch = new PteRefcount();
        var k = PatchedKernel.Boot(null, patch);
        var cg = k.Memcgs.Create("vm");
        var p = k.Spawn("qemu", cg);
        p.Mmap(2 * MiB, at: At);
        p.Touch(At, 2 * MiB, Access.Read);
        k.Sysctl.Write(PteRefcount.Sysctl, p.Pid);
        Assert.That(k.Log.Warnings.Select(w => w.Message), Has.Some.Contains("page dumped because: page still charged to cgroup"));
    }
}

public class PatchStatePerKernelTests
{
    [Test]
    public void OnePatchObjectKeepsSeparateStateForEachKernel()
    {
        // The matrix applies the same patch objects to 2^n kernels at once.
        var patch = new PteRefcount();
        var kernels = Enumerable.Range(0, 4).Select(_ => PatchedKernel.Boot(null, patch)).ToArray();
        Parallel.ForEach(kernels, k =>
        {
            var p = k.Spawn("app");
            ulong a = p.Mmap(8L << 20, at: 0x600000000000);
            p.Touch(a, 8L << 20, KernelMm.Model.Mm.Access.Read);
            k.Sysctl.Write(PteRefcount.Sysctl, p.Pid);
        });
        Assert.Multiple(() =>
        {
            foreach (var k in kernels)
            {
                Assert.That(patch.For(k).Freed, Is.EqualTo(4));
                Assert.That(k.RunChecks(), Is.Empty);
            }
        });
    }
}
