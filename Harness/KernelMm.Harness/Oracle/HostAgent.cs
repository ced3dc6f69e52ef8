using static KernelMm.Harness.Oracle.HostLibc;

namespace KernelMm.Harness.Oracle;

/// <summary>
/// One replayed process on this machine's kernel: an agent (see <see cref="AgentCode"/>)
/// driven through its command pipe. Calls block until the agent replies; an agent that
/// dies or stops answering is an <see cref="OracleHostException"/>, never a hang.
/// </summary>
internal sealed unsafe class HostAgent
{
    private const int ReplyTimeoutMs = 30_000;

    private readonly HostSession _session;
    private readonly int _cmdWr, _resRd;

    internal HostAgent(HostSession session, HostLineage lineage, int pid, int cmdWr, int resRd)
    {
        _session = session;
        Lineage = lineage;
        Pid = pid;
        _cmdWr = cmdWr;
        _resRd = resRd;
    }

    public int Pid { get; }
    public bool Alive { get; private set; } = true;
    internal HostLineage Lineage { get; }

    /// <summary>A raw system call in the agent: its return value, -errno on failure.</summary>
    public long Syscall(long nr, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0, long a6 = 0) =>
        Command(AgentCode.OpSyscall, nr, a1, a2, a3, a4, a5, a6);

    /// <summary>One byte read or written every <paramref name="stride"/> bytes of [addr, end): the count.</summary>
    public long Touch(ulong addr, ulong end, long stride, bool write) =>
        Command(AgentCode.OpTouch, (long)addr, (long)end, stride, write ? 1 : 0);

    public void Nop() => Command(AgentCode.OpNop);

    /// <summary>fork in the agent: a new agent with a copy of this one's address space.</summary>
    public HostAgent Fork()
    {
        var (cmdRd, cmdWr, resRd, resWr) = Lineage.TakePipes();
        long pid = Command(AgentCode.OpFork, cmdRd, resWr);
        if (pid <= 0)
            throw new OracleHostException($"fork in agent {Pid} failed: errno {-pid}");
        var child = new HostAgent(_session, Lineage, (int)pid, cmdWr, resRd);
        _session.Track(child);
        // The new agent's first command writes its (copy-on-write) stack page: a fault that
        // every forked agent takes, so it is taken here, before anything is measured.
        child.Nop();
        return child;
    }

    /// <summary>exit_group(0) in the agent; returns once the kernel has torn its mm down.</summary>
    public void Exit()
    {
        long[] cmd = [AgentCode.OpExit, 0, 0, 0, 0, 0, 0, 0];
        fixed (long* p = cmd)
            WriteAll(p);
        Alive = false;
        // exit_mm runs before the task becomes a zombie: wait for that state (or for it to be reaped).
        for (int i = 0; i < ReplyTimeoutMs / 5 && !HostProcFiles.IsGone(Pid); i++)
            Thread.Sleep(5);
    }

    internal void Kill()
    {
        if (Alive)
            _ = HostLibc.Kill(Pid, SIGKILL);
        Alive = false;
    }

    private long Command(long op, long a0 = 0, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0, long a6 = 0)
    {
        if (!Alive)
            throw new OracleHostException($"agent {Pid} has exited");
        long[] cmd = [op, a0, a1, a2, a3, a4, a5, a6];
        fixed (long* p = cmd)
            WriteAll(p);
        return ReadReply();
    }

    private void WriteAll(long* cmd)
    {
        // One write of 64 bytes (< PIPE_BUF) is atomic: the agent reads the whole command at once.
        nint n = Write(_cmdWr, cmd, AgentCode.CommandBytes);
        if (n != AgentCode.CommandBytes)
            throw new OracleHostException($"agent {Pid}: command write failed (errno {Errno})");
    }

    private long ReadReply()
    {
        var pfd = new PollFd { Fd = _resRd, Events = POLLIN };
        for (int waited = 0; ; waited += 100)
        {
            int r = Poll(&pfd, 1, 100);
            if (r > 0)
                break;
            if (r < 0 && Errno != 4 /* EINTR */)
                throw new OracleHostException($"agent {Pid}: poll failed (errno {Errno})");
            if (HostProcFiles.IsGone(Pid))
            {
                Alive = false;
                throw new OracleHostException($"agent {Pid} died while running a command (a signal such as SIGSEGV)");
            }
            if (waited >= ReplyTimeoutMs)
                throw new OracleHostException($"agent {Pid} did not answer within {ReplyTimeoutMs / 1000} s");
        }
        long reply;
        nint n = Read(_resRd, &reply, 8);
        if (n != 8)
            throw new OracleHostException($"agent {Pid}: short reply ({n} bytes)");
        return reply;
    }
}
