using KernelMm.Model.Mm;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Model.Tests.Mm;

/// <summary>mprotect as do_mprotect_pkey and mprotect_fixup (mm/mprotect.c, 5.x) apply it: VMA by VMA, charging a private mapping made writable.</summary>
public class MprotectTests
{
    private const long MiB = 1L << 20;
    private const ulong At = 0x200000000000;

    private static long CommittedKb(Kernel k) => k.Meminfo["Committed_AS"];

    private static ulong PteOf(Kernel k, Process p, ulong addr) => k.Walker.Read(k.Walker.LookupAddress(p.Mm.Pgd, addr));

    private static Vma VmaAt(Process p, ulong addr) => p.Mm.FindVma(addr)!;

    [Test]
    public void AHoleStopsItWithEnomemAfterTheVmasBeforeItChanged()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("holes");
        p.Mmap(MiB, at: At);
        p.Mmap(MiB, at: At + 2 * (ulong)MiB);     // a 1 MiB hole between them
        p.Touch(At, MiB, Access.Write);
        var ex = Assert.Throws<KernelErrnoException>(() => p.Mprotect(At, 3 * MiB, Prot.Read));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Errno, Is.EqualTo(Errno.ENOMEM));
            Assert.That(VmaAt(p, At).Perms, Is.EqualTo("r--p"), "the VMA before the hole was changed, and stays changed");
            Assert.That(PteOf(k, p, At) & _PAGE_RW, Is.Zero, "its entries too");
            Assert.That(VmaAt(p, At + 2 * (ulong)MiB).Perms, Is.EqualTo("rw-p"), "the VMA after the hole was never reached");
        });
    }

    [Test]
    public void AnUnmappedStartChangesNothing()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("start");
        p.Mmap(MiB, at: At + (ulong)MiB);
        var ex = Assert.Throws<KernelErrnoException>(() => p.Mprotect(At, 2 * MiB, Prot.Read));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Errno, Is.EqualTo(Errno.ENOMEM));
            Assert.That(VmaAt(p, At + (ulong)MiB).Perms, Is.EqualTo("rw-p"));
        });
    }

    [Test]
    public void MakingAReadOnlyPrivateMappingWritableChargesItOnce()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("jit");
        p.Mmap(4 * MiB, Prot.Read, at: At);
        long before = CommittedKb(k);
        p.Mprotect(At, 4 * MiB, Prot.Read | Prot.Write);
        long writable = CommittedKb(k);
        p.Mprotect(At, 4 * MiB, Prot.Read);
        p.Mprotect(At, 4 * MiB, Prot.Read | Prot.Write);
        Assert.Multiple(() =>
        {
            Assert.That(writable - before, Is.EqualTo(4 * 1024), "charged when it first becomes writable");
            Assert.That(CommittedKb(k), Is.EqualTo(writable), "read-only again keeps VM_ACCOUNT and its charge; writable again charges nothing");
            Assert.That(VmaAt(p, At).Flags & VmFlags.VM_ACCOUNT, Is.EqualTo(VmFlags.VM_ACCOUNT));
        });
        p.Munmap(At, 4 * MiB);
        Assert.That(CommittedKb(k), Is.EqualTo(before), "munmap uncharges what mprotect charged");
    }

    [Test]
    public void AMappingMadeWritableMergesWithAWritableNeighbour()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("merge");
        p.Mmap(MiB, at: At);
        p.Mmap(MiB, Prot.Read, at: At + (ulong)MiB);
        p.Mprotect(At + (ulong)MiB, MiB, Prot.Read | Prot.Write);
        Assert.That(VmaAt(p, At).End, Is.EqualTo(At + 2 * (ulong)MiB), "with VM_ACCOUNT its flags equal the neighbour's: vma_merge joins them");
    }

    [Test]
    public void TheChargeIsRefusedUnderOvercommitNeverAndEarlierVmasKeepTheirChange()
    {
        var k = TestKernel.Boot(memory: 256 * MiB);
        var p = k.Spawn("strict");
        p.Mmap(MiB, Prot.Read, at: At);
        p.Mmap(192 * MiB, Prot.Read | Prot.Exec, at: At + (ulong)MiB);
        k.Sysctl.Write("vm.overcommit_memory", 2);
        long before = CommittedKb(k);
        var ex = Assert.Throws<KernelErrnoException>(() => p.Mprotect(At, 193 * MiB, Prot.Read | Prot.Write));
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Errno, Is.EqualTo(Errno.ENOMEM));
            Assert.That(VmaAt(p, At).Perms, Is.EqualTo("rw-p"), "the first VMA fitted the commit limit");
            Assert.That(VmaAt(p, At + (ulong)MiB).Perms, Is.EqualTo("r-xp"), "the second did not: unchanged");
            Assert.That(CommittedKb(k) - before, Is.EqualTo(1024), "only the first is charged");
        });
    }

    [Test]
    public void TheFlagsThatAreNotProtectionAreKept()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("locked");
        p.Mmap(MiB, at: At, flags: MapFlags.Locked | MapFlags.NoReserve);
        p.Mprotect(At, MiB, Prot.Read);
        Assert.That(VmaAt(p, At).Flags & (VmFlags.VM_LOCKED | VmFlags.VM_NORESERVE | VmFlags.VM_MAYWRITE),
            Is.EqualTo(VmFlags.VM_LOCKED | VmFlags.VM_NORESERVE | VmFlags.VM_MAYWRITE));
    }

    [Test]
    public void ALockedPrivateMappingMadeWritableIsPopulatedForWriting()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("mlocked");
        p.Mmap(64 * 4096, Prot.Read, at: At, flags: MapFlags.Locked);
        long rss = p.Status["VmRSS"];
        Assert.That(PteOf(k, p, At) & _PAGE_RW, Is.Zero, "MAP_LOCKED read-only: populated with the zero page");
        p.Mprotect(At, 64 * 4096, Prot.Read | Prot.Write);
        Assert.Multiple(() =>
        {
            Assert.That(PteOf(k, p, At) & _PAGE_RW, Is.Not.Zero, "the COW was broken at once");
            Assert.That(p.Status["VmRSS"] - rss, Is.EqualTo(64 * 4));
        });
    }

    [Test]
    public void UnknownProtBitsAreEinval()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("bits");
        p.Mmap(MiB, at: At);
        var ex = Assert.Throws<KernelErrnoException>(() => p.Mprotect(At, MiB, (Prot)0x20));
        Assert.That(ex!.Errno, Is.EqualTo(Errno.EINVAL));
    }
}
