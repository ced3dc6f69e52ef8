using KernelMm.Model.Mm;

namespace KernelMm.Model.Tests.Mm;

/// <summary>__vm_enough_memory and vm_committed_as as mm/util.c (5.x) has them, through mmap, munmap, fork and exit.</summary>
public class OvercommitTests
{
    private const long GiB = 1L << 30, MiB = 1L << 20;

    private static long CommittedKb(Kernel k) => k.Meminfo["Committed_AS"];

    [Test]
    public void MeminfoPrintsCommitLimitAndCommittedAsAfterPageTables()
    {
        var k = TestKernel.Boot();
        var names = k.Meminfo.Lines().Select(l => l.Name).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(names.IndexOf("CommitLimit"), Is.EqualTo(names.IndexOf("PageTables") + 1));
            Assert.That(names.IndexOf("Committed_AS"), Is.EqualTo(names.IndexOf("CommitLimit") + 1));
            Assert.That(names.IndexOf("VmallocTotal"), Is.EqualTo(names.IndexOf("Committed_AS") + 1));
            Assert.That(k.Meminfo["CommitLimit"], Is.EqualTo((k.TotalRamPages * 50 / 100) << 2), "totalram * overcommit_ratio 50 / 100, no swap");
        });
    }

    [Test]
    public void PrivateWritableMappingsAreChargedAndUnmappingUncharges()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("app");
        long before = CommittedKb(k);
        ulong a = p.Mmap(64 * MiB);
        p.Mmap(16 * MiB, Prot.Read);
        long afterMmap = CommittedKb(k);
        p.Munmap(a, 32 * MiB);
        long afterMunmap = CommittedKb(k);
        Assert.Multiple(() =>
        {
            Assert.That(afterMmap - before, Is.EqualTo(64 * 1024), "read-only memory is not accounted");
            Assert.That(afterMunmap - before, Is.EqualTo(32 * 1024), "half of it unmapped");
        });
        p.Exit();
        Assert.That(CommittedKb(k), Is.EqualTo(before - 132), "exit uncharges everything, the stack's 132 kB too");
    }

    [Test]
    public void NoReserveSkipsTheChargeUnlessOvercommitIsNever()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("jemalloc");
        long before = CommittedKb(k);
        p.Mmap(64 * GiB, flags: MapFlags.NoReserve);
        Assert.That(CommittedKb(k), Is.EqualTo(before), "VM_NORESERVE: no VM_ACCOUNT");
        Assert.That(() => p.Mmap(64 * GiB), Throws.TypeOf<KernelErrnoException>().With.Property("Errno").EqualTo(Errno.ENOMEM),
            "OVERCOMMIT_GUESS refuses one request larger than RAM");
        k.Sysctl.Write("vm.overcommit_memory", 2);
        Assert.That(() => p.Mmap(64 * GiB, flags: MapFlags.NoReserve), Throws.TypeOf<KernelErrnoException>(),
            "under OVERCOMMIT_NEVER MAP_NORESERVE is ignored");
    }

    [Test]
    public void OvercommitAlwaysAllowsAHeapLargerThanTheMachine()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("heap");
        Assert.That(k.Sysctl.Write("vm.overcommit_memory", 1), Is.True);
        long before = CommittedKb(k);
        p.Mmap(64 * GiB);
        Assert.Multiple(() =>
        {
            Assert.That(CommittedKb(k) - before, Is.EqualTo(64L << 20), "charged all the same");
            Assert.That(k.Sysctl.Read("vm.overcommit_memory"), Is.EqualTo(1));
        });
    }

    [Test]
    public void OvercommitNeverHoldsCommittedAsBelowTheLimit()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("strict");
        k.Sysctl.Write("vm.overcommit_memory", 2);
        k.Sysctl.Write("vm.overcommit_ratio", 100);
        long limitPages = k.Meminfo["CommitLimit"] >> 2;
        Assert.That(limitPages, Is.EqualTo(k.TotalRamPages));
        long committed = k.Overcommit.CommittedAs;
        // allowed = limit - min(total_vm / 32, user_reserve); root keeps the admin reserve.
        long reserve = Math.Min(p.Mm.TotalVm / 32, k.Overcommit.UserReserveKbytes >> 2);
        long fits = limitPages - reserve - committed - 1;
        p.Mmap(fits << 12);
        Assert.That(() => p.Mmap(4096), Throws.TypeOf<KernelErrnoException>().With.Property("Errno").EqualTo(Errno.ENOMEM));
        Assert.That(k.Overcommit.CommittedAs, Is.EqualTo(committed + fits), "a refused request leaves nothing charged");
    }

    [Test]
    public void ForkChargesTheChildsAccountedVmas()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("parent");
        p.Mmap(100 * MiB);
        long before = CommittedKb(k);
        var c = p.Fork("child");
        Assert.That(CommittedKb(k) - before, Is.EqualTo(100 * 1024 + 132));
        c.Exit();
        Assert.That(CommittedKb(k), Is.EqualTo(before));
    }

    [Test]
    public void ForkFailsWithEnomemWhenTheCopyDoesNotFitUnderNever()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("big");
        k.Sysctl.Write("vm.overcommit_memory", 2);
        k.Sysctl.Write("vm.overcommit_ratio", 100);
        p.Mmap((long)(k.TotalRamPages * 0.6) << 12);
        long committed = k.Overcommit.CommittedAs;
        Assert.That(() => p.Fork("child"), Throws.TypeOf<KernelErrnoException>().With.Property("Errno").EqualTo(Errno.ENOMEM));
        Assert.Multiple(() =>
        {
            Assert.That(k.Overcommit.CommittedAs, Is.EqualTo(committed), "the child's partial charge is undone");
            Assert.That(k.Processes, Has.Count.EqualTo(1));
        });
    }

    [Test]
    public void OvercommitSysctlsValidateAsTheKernelDoes()
    {
        var k = TestKernel.Boot();
        Assert.Multiple(() =>
        {
            Assert.That(() => k.Sysctl.Write("vm.overcommit_memory", 3), Throws.TypeOf<KernelErrnoException>().With.Property("Errno").EqualTo(Errno.EINVAL));
            Assert.That(k.Sysctl.Read("vm.overcommit_memory"), Is.EqualTo(0), "OVERCOMMIT_GUESS by default");
            Assert.That(k.Sysctl.Read("vm.overcommit_ratio"), Is.EqualTo(50));
            Assert.That(k.Sysctl.Read("vm.no_such_file"), Is.Null);
        });
        k.Sysctl.Write("vm.overcommit_kbytes", 1 << 20);
        Assert.Multiple(() =>
        {
            Assert.That(k.Sysctl.Read("vm.overcommit_ratio"), Is.EqualTo(0), "overcommit_kbytes_handler clears the ratio");
            Assert.That(k.Meminfo["CommitLimit"], Is.EqualTo(1 << 20));
        });
        k.Sysctl.Write("vm.overcommit_ratio", 30);
        Assert.That(k.Sysctl.Read("vm.overcommit_kbytes"), Is.EqualTo(0), "and the ratio clears kbytes");
    }

    [Test]
    public void ReservesAreAThirtySecondOfFreeMemoryAtBootAtMostTheirDefaults()
    {
        var small = TestKernel.Boot(memory: 64L << 20);
        var big = TestKernel.Boot(memory: 8L << 30);
        Assert.Multiple(() =>
        {
            Assert.That(small.Overcommit.AdminReserveKbytes, Is.LessThan(8192));
            Assert.That(small.Overcommit.UserReserveKbytes, Is.EqualTo(small.Overcommit.AdminReserveKbytes), "both free / 32 on a small machine");
            Assert.That(big.Overcommit.AdminReserveKbytes, Is.EqualTo(8192));
            Assert.That(big.Overcommit.UserReserveKbytes, Is.EqualTo(131072));
        });
    }
}
