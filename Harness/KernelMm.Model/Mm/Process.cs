using KernelMm.Model.Memory;
using KernelMm.Model.Stats;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Mm;

/// <summary>
/// A task with its mm: created by <see cref="Kernel.Spawn"/> (fork and exec of a fresh
/// image: a stack VMA with its top page written) or by <see cref="Fork"/>. Calls after
/// <see cref="Exit"/> fail with ESRCH-like errors, as a dead pid would.
/// </summary>
public sealed class Process
{
    /// <summary>THREAD_SIZE: 16 KiB kernel stacks (order 2).</summary>
    public const int THREAD_SIZE_ORDER = 2;
    public const long THREAD_SIZE = 4096L << THREAD_SIZE_ORDER;

    /// <summary>The initial stack VMA of execve: 132 KiB below STACK_TOP.</summary>
    public const ulong InitialStackSize = 132UL << 10;

    private readonly Kernel _k;
    private Ldt? _ldt;

    internal Process(Kernel k, int pid, string comm, Memcg? memcg)
    {
        _k = k;
        Pid = pid;
        Comm = comm;
        Memcg = memcg;
        Cpu = pid % k.Options.Cpus;
        StackPfn = -1;
        AllocThreadStack();
        Mm = new MmStruct(k, this);
    }

    public int Pid { get; }

    /// <summary>The kernel this task runs in.</summary>
    internal Kernel Kernel => _k;
    public string Comm { get; }
    /// <summary>
    /// The task's memory cgroup (null: the root): where its new charges go, set at spawn
    /// and fork and changed by a cgroup.procs write (<see cref="MemcgController.Attach"/>).
    /// </summary>
    public Memcg? Memcg { get; internal set; }
    public MmStruct Mm { get; }

    /// <summary>The CPU the task runs on (pid modulo CPUs: deterministic).</summary>
    public int Cpu { get; }

    /// <summary>The first frame of the kernel stack, or -1 after exit.</summary>
    public long StackPfn { get; private set; }

    public bool Alive { get; private set; } = true;

    /// <summary>The LDT's page when it lives in one direct-map page, else -1 (a vmalloc LDT is a vmalloc area).</summary>
    internal long LdtPagePfn => _ldt?.PagePfn ?? -1;

    /// <summary>The LDT's size in entries (0: none).</summary>
    public int LdtEntries => _ldt?.Entries ?? 0;

    private void AllocThreadStack()
    {
        long pfn = _k.Memcgs.AllocKmemPages(GfpFlags.GFP_KERNEL_ACCOUNT, THREAD_SIZE_ORDER, Memcg, PageOwnerKind.KernelStack, Pid);
        if (pfn < 0)
            throw new KernelErrnoException("fork", Errno.ENOMEM, "alloc_thread_stack_node");
        StackPfn = pfn;
        for (long i = 1; i < 1 << THREAD_SIZE_ORDER; i++)
            _k.Frames[pfn + i].OwnerKind = PageOwnerKind.KernelStack;
        _k.VmStat.Mod(VmStatItem.NR_KERNEL_STACK_KB, THREAD_SIZE >> 10);
        _k.Kaiser?.MapThreadStack(this);
    }

    /// <summary>The kernel-stack top page that KAISER user-maps (stack + THREAD_SIZE - PAGE_SIZE).</summary>
    internal ulong StackTopPage => _k.DirectMapAddress(StackPfn) + (ulong)THREAD_SIZE - PAGE_SIZE;

    /// <summary>execve's stack: a VMA of 132 KiB under STACK_TOP whose top page (argv, envp) is written.</summary>
    internal void SetupArgPages()
    {
        Mm.InsertStack(MmStruct.STACK_TOP - InitialStackSize, MmStruct.STACK_TOP);
        Touch(MmStruct.STACK_TOP - PAGE_SIZE, (long)PAGE_SIZE, Access.Write);
    }

    private void CheckAlive(string call)
    {
        if (!Alive)
            throw new KernelErrnoException(call, Errno.ESRCH, $"process {Pid} ({Comm}) has exited");
        _k.CountOperation();
        _k.Buddy.CurrentComm = Comm; // "Bad page state in process <comm>"
    }

    /// <summary>mmap(NULL or <paramref name="at"/> with MAP_FIXED, length, prot, MAP_PRIVATE|MAP_ANONYMOUS|<paramref name="flags"/>).</summary>
    public ulong Mmap(long length, Prot prot = Prot.Read | Prot.Write, ulong? at = null, MapFlags flags = MapFlags.None)
    {
        CheckAlive("mmap");
        _k.SwitchMm(Cpu, Mm);
        return Mm.Mmap(length, prot, at, flags);
    }

    /// <summary>mremap(addr, oldLength, newLength, flags, newAddr): the mapping's (new) address.</summary>
    public ulong Mremap(ulong addr, long oldLength, long newLength, MremapFlags flags = MremapFlags.None, ulong? newAddr = null)
    {
        CheckAlive("mremap");
        _k.SwitchMm(Cpu, Mm);
        return Mm.Mremap(addr, oldLength, newLength, flags, newAddr);
    }

    /// <summary>mlock: VM_LOCKED on the range, counted in VmLck, and its pages faulted in.</summary>
    public void Mlock(ulong addr, long length)
    {
        CheckAlive("mlock");
        _k.SwitchMm(Cpu, Mm);
        Mm.Mlock(addr, length, lockIt: true);
    }

    /// <summary>munlock: VM_LOCKED cleared on the range.</summary>
    public void Munlock(ulong addr, long length)
    {
        CheckAlive("munlock");
        _k.SwitchMm(Cpu, Mm);
        Mm.Mlock(addr, length, lockIt: false);
    }

    /// <summary>min_flt: the page faults this task took that needed no I/O (every fault of anonymous memory), its own and get_user_pages' (populate).</summary>
    public long MinFlt { get; internal set; }

    public void Munmap(ulong addr, long length)
    {
        CheckAlive("munmap");
        _k.SwitchMm(Cpu, Mm);
        Mm.Munmap(addr, length);
    }

    public void Mprotect(ulong addr, long length, Prot prot)
    {
        CheckAlive("mprotect");
        _k.SwitchMm(Cpu, Mm);
        Mm.Mprotect(addr, length, prot);
    }

    public void Madvise(ulong addr, long length, Advice advice)
    {
        CheckAlive("madvise");
        _k.SwitchMm(Cpu, Mm);
        Mm.Madvise(addr, length, advice);
    }

    /// <summary>
    /// Accesses every <paramref name="stride"/> bytes of [addr, addr+length) from user mode
    /// on this task's CPU: through the TLB, faulting as needed. An access the VMAs do not
    /// allow is a SIGSEGV, thrown as EFAULT; running out of memory invokes the OOM killer.
    /// </summary>
    public void Touch(ulong addr, long length, Access access, long stride = 4096)
    {
        CheckAlive("touch");
        if (length < 0 || stride <= 0)
            throw new KernelErrnoException("touch", Errno.EINVAL, $"length {length}, stride {stride}");
        _k.SwitchMm(Cpu, Mm);
        ulong end = addr + (ulong)length;
        if (end < addr)
            throw new KernelErrnoException("touch", Errno.EFAULT, $"0x{addr:x}+{length:x} wraps");
        for (ulong a = addr; a < end; a += (ulong)stride)
        {
            if (!_k.UserAccess(this, a, access == Access.Write))
                return;
        }
    }

    /// <summary>fork: a child with a copy-on-write copy of this address space and the same memcg.</summary>
    public Process Fork(string name)
    {
        CheckAlive("fork");
        return _k.ForkProcess(this, name);
    }

    /// <summary>modify_ldt(1, ...) writing entry <paramref name="entries"/> - 1: a new LDT of at least that many entries replaces the old one.</summary>
    public void ModifyLdt(int entries)
    {
        CheckAlive("modify_ldt");
        if (entries <= 0 || entries > Ldt.LDT_ENTRIES)
            throw new KernelErrnoException("modify_ldt", Errno.EINVAL, $"{entries} entries (1..{Ldt.LDT_ENTRIES})");
        // write_ldt (arch/x86/kernel/ldt.c, 4.9): a new LDT on every write, of
        // max(entry_number + 1, oldsize) entries (alloc_ldt_struct, user-mapped with KAISER),
        // installed, then the old one freed; an LDT already large enough is not kept.
        var old = _ldt;
        _ldt = Ldt.Alloc(_k, this, Math.Max(entries, old?.Entries ?? 0));
        old?.Free();
    }

    /// <summary>do_exit: the mm torn down (exit_mmap, pgd_free), the LDT and the kernel stack freed.</summary>
    public void Exit()
    {
        CheckAlive("exit");
        Alive = false;
        Mm.ExitMmap();
        _ldt?.Free();
        _ldt = null;
        _k.Kaiser?.UnmapThreadStack(this);
        _k.Memcgs.FreeKmemPages(StackPfn, THREAD_SIZE_ORDER);
        _k.VmStat.Mod(VmStatItem.NR_KERNEL_STACK_KB, -(THREAD_SIZE >> 10));
        StackPfn = -1;
        _k.ProcessExited(this);
    }

    /// <summary>The memory lines of /proc/PID/status, in kB, in the kernel's order.</summary>
    public IEnumerable<(string Name, long Kb)> StatusLines()
    {
        // task_mem (fs/proc/task_mmu.c, 5.x). Memory the model has no notion of prints 0 as
        // it would on a kernel where none exists: pinned pages, file and shmem pages, the
        // executable and libraries (a spawned task runs no image), swap.
        yield return ("VmPeak", Mm.HiwaterVm << 2);
        yield return ("VmSize", Mm.TotalVm << 2);
        yield return ("VmLck", Mm.LockedVm << 2);
        yield return ("VmPin", 0);
        yield return ("VmHWM", Mm.HiwaterRss << 2);
        yield return ("VmRSS", Mm.AnonRss << 2);
        yield return ("RssAnon", Mm.AnonRss << 2);
        yield return ("RssFile", 0);
        yield return ("RssShmem", 0);
        yield return ("VmData", Mm.DataVm << 2);
        yield return ("VmStk", Mm.StackVm << 2);
        yield return ("VmExe", 0);
        yield return ("VmLib", 0);
        yield return ("VmPTE", Mm.PgtablesBytes >> 10);
        yield return ("VmSwap", 0);
    }

    /// <summary>
    /// The memory lines of /proc/PID/status as fs/proc/task_mmu.c task_mem prints them:
    /// <c>seq_put_decimal_ull_width(m, "VmPeak:\t", ..., 8)</c> then " kB", so
    /// <c>Name:\t%8lu kB</c>.
    /// </summary>
    public string RenderStatus()
    {
        var sb = new System.Text.StringBuilder();
        foreach (var (name, kb) in StatusLines())
            sb.Append(name).Append(":\t").Append(kb.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(8)).Append(" kB\n");
        return sb.ToString();
    }

    /// <summary>A /proc/PID/status value by name, in kB.</summary>
    public IReadOnlyDictionary<string, long> Status => StatusLines().ToDictionary(l => l.Name, l => l.Kb);

    /// <summary>The user half of this process's page tables, in the ptdump format under the User Space marker.</summary>
    public string DumpUserPageTables() => Dump.PtDump.WalkUser(_k.Tables, Mm.Pgd).Text;

    public override string ToString() => $"{Pid} ({Comm})";
}
