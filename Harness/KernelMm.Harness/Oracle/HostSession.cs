using System.Runtime.InteropServices;
using static KernelMm.Harness.Oracle.HostLibc;

namespace KernelMm.Harness.Oracle;

/// <summary>
/// The host side of one replay: the agent's code mapped executable, the 512 GiB window
/// reserved in this process (so the runtime maps nothing there that an agent would
/// inherit), and every agent started, all killed and reaped on <see cref="Dispose"/>.
/// </summary>
internal sealed unsafe class HostSession : IDisposable
{
    private readonly nint _code;
    private readonly nuint _codeLen;
    private readonly List<HostAgent> _agents = [];
    private readonly List<HostLineage> _lineages = [];
    private readonly List<int> _roots = [];
    private bool _reserved;

    public HostSession()
    {
        HostKernelProbe.RequireSupportedHost();
        Window = AddressWindow.ChooseFree(HostProcFiles.Maps(Environment.ProcessId).Select(m => (m.Start, m.End)));
        nint r = Mmap((nint)Window.HostBase, unchecked((nuint)AddressWindow.PgdirSize), PROT_NONE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
        if (r != (nint)Window.HostBase)
            throw new OracleHostException($"cannot reserve the replay window at 0x{Window.HostBase:x} (errno {Errno})");
        _reserved = true;

        var bytes = AgentCode.Bytes;
        _codeLen = 4096;
        _code = Mmap(0, _codeLen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (_code == -1)
            throw new OracleHostException($"mmap for the agent's code failed (errno {Errno})");
        bytes.CopyTo(new Span<byte>((void*)_code, bytes.Length));
        if (HostLibc.Mprotect(_code, _codeLen, PROT_READ | PROT_EXEC) != 0)
            throw new OracleHostException($"mprotect(PROT_EXEC) of the agent's code failed (errno {Errno})");
        ZeroPfn = FindZeroPfn();
        // One CPU for every agent, as a mask in this process's memory that each agent's copy
        // of it still holds at the same address (sched_setaffinity reads it from the caller).
        _cpuMask = Mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (_cpuMask == -1)
            throw new OracleHostException($"mmap for the CPU mask failed (errno {Errno})");
        int cpu = FirstAllowedCpu();
        ((byte*)_cpuMask)[cpu / 8] = (byte)(1 << (cpu % 8));
    }

    private readonly nint _cpuMask;

    // 32 zero bytes in the mask's page: a struct sigaction of SIG_DFL, and an empty sigset.
    private nint ZeroedSigaction => _cpuMask + 2048;

    /// <summary>
    /// Every signal back to SIG_DFL and none blocked. A fork keeps the runtime's handlers
    /// (.NET installs SIGCHLD, SIGINT, SIGTERM, SIGCONT, SIGWINCH ... handlers): a forked
    /// agent's exit would run the runtime's SIGCHLD handler in its parent agent, managed
    /// process code on a signal frame pushed onto the agent's stack (two pages: two minor
    /// faults in its figures, seen at the end of fork-cow). At SIG_DFL the kernel discards
    /// SIGCHLD unseen, and a terminating signal ends the agent.
    /// </summary>
    private void ResetSignals(HostAgent agent)
    {
        const long SYS_rt_sigaction = 13, SYS_rt_sigprocmask = 14, SIG_SETMASK = 2;
        for (long sig = 1; sig <= 64; sig++)
        {
            if (sig is 9 or 19) // SIGKILL, SIGSTOP: no action to set
                continue;
            Expect(agent.Syscall(SYS_rt_sigaction, sig, ZeroedSigaction, 0, 8), $"rt_sigaction({sig}, SIG_DFL)");
        }
        Expect(agent.Syscall(SYS_rt_sigprocmask, SIG_SETMASK, ZeroedSigaction, 0, 8), "rt_sigprocmask(SIG_SETMASK, empty)");
    }

    /// <summary>The lowest CPU this process may run on (sched_getaffinity), where every agent runs.</summary>
    private static int FirstAllowedCpu()
    {
        var mask = stackalloc byte[128];
        if (SchedGetaffinity(0, 128, mask) < 0)
            return 0;
        for (int i = 0; i < 128 * 8; i++)
            if ((mask[i / 8] & (1 << (i % 8))) != 0)
                return i;
        return 0;
    }

    public AddressWindow Window { get; }

    /// <summary>The pfn of the shared zero page as pagemap shows it (0 when pagemap hides pfns: not root).</summary>
    public long ZeroPfn { get; }

    /// <summary>
    /// A new agent with the model's freshly exec'd address space in the window: execve's
    /// 132 KiB stack under STACK_TOP with its top page written, THP off for the whole
    /// process (PR_SET_THP_DISABLE: the model has no THP, and unlike MADV_NOHUGEPAGE it
    /// sets no VMA flag that would change merging).
    /// </summary>
    public HostAgent Spawn(ulong modelStackStart, ulong modelStackEnd)
    {
        var lineage = new HostLineage();
        _lineages.Add(lineage);
        var (cmdRd, cmdWr, resRd, resWr) = lineage.Root;
        var fork = (delegate* unmanaged<long, long, long, long, long>)_code;
        // Read on the thread that forks: the agent inherits this thread's rseq registration.
        var rseq = HostRseq.OfThisThread();
        long pid = fork(cmdRd, resWr, cmdWr, resRd);
        if (pid <= 0)
            throw new OracleHostException($"fork failed (errno {-pid})");
        _roots.Add((int)pid);
        var agent = new HostAgent(this, lineage, (int)pid, cmdWr, resRd);
        Track(agent);

        agent.Nop();
        UnregisterRseq(agent, rseq);
        // Pinned, an agent never meets a stale read-only TLB entry on another CPU after a
        // copy-on-write reuse made a page writable (x86 upgrades permissions without a
        // flush; the next access elsewhere is a spurious fault, counted in min_flt).
        Expect(agent.Syscall(SYS_sched_setaffinity, 0, 128, _cpuMask), "sched_setaffinity");
        ResetSignals(agent);
        Expect(agent.Syscall(SYS_munmap, (long)Window.HostBase, (long)AddressWindow.PgdirSize), "munmap of the window's reservation");
        Expect(agent.Syscall(SYS_prctl, PR_SET_THP_DISABLE, 1), "prctl(PR_SET_THP_DISABLE)");
        ulong start = Window.ToHost(modelStackStart);
        long len = (long)(modelStackEnd - modelStackStart);
        long got = agent.Syscall(SYS_mmap, (long)start, len, PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_GROWSDOWN | MAP_FIXED_NOREPLACE, -1, 0);
        if (got != (long)start)
            throw new OracleHostException($"mmap of the stack at 0x{start:x} failed ({got})");
        agent.Touch(start + (ulong)len - 4096, start + (ulong)len, 4096, write: true);
        agent.Nop();
        return agent;
    }

    internal void Track(HostAgent agent) => _agents.Add(agent);

    // The agent and every agent it forks run without rseq, so no cpu_id update is a fault in their figures.
    private static void UnregisterRseq(HostAgent agent, (long Address, long[] Lengths)? rseq)
    {
        if (rseq is not { } r)
            return;
        long last = 0;
        foreach (long len in r.Lengths)
        {
            last = agent.Syscall(HostRseq.SYS_rseq, r.Address, len, HostRseq.FlagUnregister, HostRseq.Sig);
            if (last == 0)
                return;
        }
        throw new OracleHostException($"rseq unregister in agent {agent.Pid} failed (errno {-last}): its minor faults would include the kernel's rseq updates");
    }

    /// <summary>The agent's figures, read until two readings in a row agree.</summary>
    public HostReading Read(HostAgent agent)
    {
        HostReading last = ReadOnce(agent);
        for (int i = 0; i < 10; i++)
        {
            var next = ReadOnce(agent);
            if (next.SameAs(last))
                return next;
            last = next;
        }
        return last;
    }

    private HostReading ReadOnce(HostAgent agent)
    {
        var status = HostProcFiles.Status(agent.Pid);
        long minflt = HostProcFiles.MinFlt(agent.Pid);
        var vmas = new List<(ulong Start, ulong End, string Perms)>();
        long present = 0, zero = 0;
        foreach (var (s, e, perms) in HostProcFiles.Maps(agent.Pid))
        {
            if (s >> AddressWindow.PgdirShift != (ulong)Window.HostSlot)
                continue;
            vmas.Add((Window.ToModel(s), Window.ToModel(e), perms));
            var (p, z) = HostProcFiles.Pagemap(agent.Pid, s, e, ZeroPfn);
            present += p;
            zero += z;
        }
        return new HostReading(status, minflt, vmas, present, ZeroPfn > 0 ? zero : null);
    }

    private static void Expect(long result, string what)
    {
        if (result != 0)
            throw new OracleHostException($"{what} failed (errno {-result})");
    }

    // A read fault on fresh anonymous memory maps the zero page: its pfn, as pagemap shows it.
    private static long FindZeroPfn()
    {
        nint a = Mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (a == -1)
            return 0;
        try
        {
            _ = Marshal.ReadByte(a);
            using var f = new FileStream("/proc/self/pagemap", FileMode.Open, FileAccess.Read);
            var buf = new byte[8];
            f.Position = (a >> 12) * 8;
            f.ReadExactly(buf);
            ulong e = BitConverter.ToUInt64(buf);
            return (e & HostProcFiles.PM_PRESENT) != 0 ? (long)(e & HostProcFiles.PFN_MASK) : 0;
        }
        catch (IOException) { return 0; }
        catch (UnauthorizedAccessException) { return 0; }
        finally { _ = Munmap(a, 4096); }
    }

    public void Dispose()
    {
        foreach (var a in _agents)
            a.Kill();
        int status;
        foreach (int pid in _roots)
            _ = Waitpid(pid, &status, 0);
        _agents.Clear();
        _roots.Clear();
        foreach (var l in _lineages)
            l.Dispose();
        _lineages.Clear();
        if (_reserved)
            _ = Munmap((nint)Window.HostBase, unchecked((nuint)AddressWindow.PgdirSize));
        _reserved = false;
        _ = Munmap(_code, _codeLen);
        _ = Munmap(_cpuMask, 4096);
    }
}
