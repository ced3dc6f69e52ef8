using System.Globalization;
using KernelMm.Model.Mm;
using static KernelMm.Harness.Oracle.HostLibc;

namespace KernelMm.Harness.Oracle;

/// <summary>
/// Replays a <see cref="ReplayTrace"/> on this machine's kernel, one agent per model
/// process, and compares at every checkpoint. Each call's answer is compared too: a call
/// the model failed with an errno must fail on the host with the same one.
/// </summary>
internal sealed class OracleReplayer(HostSession session, HostKernelFacts host, IReadOnlySet<string> patches)
{
    private sealed class Replayed(HostAgent agent, Figures baseline, Figures forkBaseline, List<ReplayCall> history)
    {
        public HostAgent Agent { get; } = agent;
        public Figures Baseline { get; } = baseline;
        /// <summary>What a fork of this lineage's freshly spawned agent reads: forked descendants' deltas are from it.</summary>
        public Figures ForkBaseline { get; } = forkBaseline;
        /// <summary>The calls behind this process's state, its ancestors' included.</summary>
        public List<ReplayCall> History { get; } = history;
        /// <summary>Minor faults the agent itself took (its command buffer's copy-on-write after a fork), not the scenario's.</summary>
        public long AgentFaults { get; set; }
    }

    private readonly Dictionary<int, Replayed> _procs = [];
    private readonly List<FigureRow> _rows = [];

    public IReadOnlyList<FigureRow> Replay(ReplayTrace trace)
    {
        string where = "start";
        foreach (var step in trace.Steps)
        {
            switch (step)
            {
                case CallStep { Call: var c }:
                    Make(c, where);
                    break;
                case CheckpointStep cp:
                    where = cp.Name;
                    Compare(cp);
                    break;
            }
        }
        return _rows;
    }

    private void Make(ReplayCall c, string after)
    {
        if (c.Kind == ReplayKind.NotReplayed)
            return;
        if (c.Kind == ReplayKind.Spawn)
        {
            Spawn(c);
            return;
        }
        var p = _procs[c.Pid];
        p.History.Add(c);
        var w = session.Window;
        long prot = c.Arg;
        long host = c.Kind switch
        {
            ReplayKind.Mmap => Mmap(p, c),
            ReplayKind.Munmap => p.Agent.Syscall(SYS_munmap, (long)w.ToHost(c.Addr), c.Length),
            ReplayKind.Mprotect => p.Agent.Syscall(SYS_mprotect, (long)w.ToHost(c.Addr), c.Length, prot),
            ReplayKind.Madvise => p.Agent.Syscall(SYS_madvise, (long)w.ToHost(c.Addr), c.Length, c.Arg),
            ReplayKind.Mlock => p.Agent.Syscall(SYS_mlock, (long)w.ToHost(c.Addr), c.Length),
            ReplayKind.Munlock => p.Agent.Syscall(SYS_munlock, (long)w.ToHost(c.Addr), c.Length),
            ReplayKind.Mremap => Mremap(p, c),
            ReplayKind.Touch => Touch(p, c),
            ReplayKind.Fork => Fork(p, c),
            ReplayKind.Exit => Exit(p, c),
            _ => throw new InvalidOperationException(c.Kind.ToString()),
        };
        if (c.Kind is ReplayKind.Touch or ReplayKind.Fork or ReplayKind.Exit)
            return;
        long expected = c.Failed is { } e ? -(long)e : c.Kind is ReplayKind.Mmap or ReplayKind.Mremap ? (long)w.ToHost((ulong)c.Result) : 0;
        if (host != expected)
            _rows.Add(new FigureRow(after, c.Pid, "", $"result of {c.Text}", Answer(expected, c), Answer(host, c), Verdict.Differs));
    }

    private static string Answer(long v, ReplayCall c) =>
        v < 0 && v > -4096 ? $"-{(Model.Errno)(-v)}" : c.Kind is ReplayKind.Mmap or ReplayKind.Mremap ? "ok" : v.ToString(CultureInfo.InvariantCulture);

    private void Spawn(ReplayCall c)
    {
        var agent = session.Spawn(MmStruct.STACK_TOP - Process.InitialStackSize, MmStruct.STACK_TOP);
        // A fork of the freshly spawned agent: the baseline of every forked descendant.
        var probe = agent.Fork();
        var forkBase = Figures.Of(session.Read(probe));
        probe.Exit();
        // The probe fork write-protected the agent's command buffer: one command takes that fault before the baseline.
        agent.Nop();
        _procs[c.Pid] = new Replayed(agent, Figures.Of(session.Read(agent)), forkBase, [c]);
    }

    private long Mmap(Replayed p, ReplayCall c)
    {
        var w = session.Window;
        bool replace = (c.Arg2 & MAP_FIXED) != 0 && (c.Arg2 & MAP_FIXED_NOREPLACE) == 0;
        ulong at = c.Failed is null ? (ulong)c.Result : c.Addr;
        if (at == 0)
            return c.Failed is { } e ? -(long)e : 0; // a placement the model refused: nothing to place on the host
        long extra = c.Arg2 & ~(long)(MAP_FIXED | MAP_FIXED_NOREPLACE);
        long flags = (long)(MAP_PRIVATE | MAP_ANONYMOUS | (replace ? MAP_FIXED : MAP_FIXED_NOREPLACE)) | extra;
        return p.Agent.Syscall(SYS_mmap, (long)w.ToHost(at), c.Length, c.Arg, flags, -1, 0);
    }

    private long Mremap(Replayed p, ReplayCall c)
    {
        var w = session.Window;
        long newAddr = (c.Arg & 2 /* MREMAP_FIXED */) != 0 ? (long)w.ToHost(c.Arg3) : 0;
        // Where the model moved the mapping without MREMAP_FIXED, the host is told the same place.
        long flags = c.Arg;
        if (c.Failed is null && (ulong)c.Result != c.Addr && newAddr == 0)
        {
            newAddr = (long)w.ToHost((ulong)c.Result);
            flags |= 1 | 2; // MREMAP_MAYMOVE | MREMAP_FIXED
        }
        return p.Agent.Syscall(SYS_mremap, (long)w.ToHost(c.Addr), c.Length, c.Arg2, flags, newAddr);
    }

    // One access per stride as far as the host's VMAs allow it, as the model's Touch stops at the first SIGSEGV.
    private long Touch(Replayed p, ReplayCall c)
    {
        var w = session.Window;
        bool write = c.Arg3 != 0;
        ulong stride = (ulong)c.Arg2, addr = c.Addr, end = c.Addr + (ulong)c.Length;
        var vmas = HostProcFiles.Maps(p.Agent.Pid).Where(v => v.Start >> AddressWindow.PgdirShift == (ulong)w.HostSlot)
            .Select(v => (Start: w.ToModel(v.Start), End: w.ToModel(v.End), v.Perms)).ToList();
        long done = 0;
        while (addr < end)
        {
            var vma = vmas.FirstOrDefault(v => v.Start <= addr && addr < v.End);
            if (vma.End == 0 || !Allows(vma.Perms, write))
                break;
            ulong stop = Math.Min(end, vma.End);
            done += p.Agent.Touch(w.ToHost(addr), w.ToHost(stop), (long)stride, write);
            addr += (stop - addr + stride - 1) / stride * stride;
        }
        return done;
    }

    private static bool Allows(string perms, bool write) =>
        write ? perms[1] == 'w' : perms[0] == 'r' || perms[1] == 'w' || perms[2] == 'x';

    private long Fork(Replayed p, ReplayCall c)
    {
        long before = HostProcFiles.MinFlt(p.Agent.Pid);
        var child = p.Agent.Fork();
        // The fork's reply is the parent's first write to its now write-protected command buffer.
        p.AgentFaults += HostProcFiles.MinFlt(p.Agent.Pid) - before;
        _procs[(int)c.Result] = new Replayed(child, p.ForkBaseline, p.ForkBaseline, [.. p.History]);
        return 0;
    }

    private long Exit(Replayed p, ReplayCall c)
    {
        p.Agent.Exit();
        _procs.Remove(c.Pid);
        return 0;
    }

    private void Compare(CheckpointStep cp)
    {
        foreach (var m in cp.Processes)
        {
            if (!_procs.TryGetValue(m.Pid, out var p))
                continue;
            var h = Figures.Of(session.Read(p.Agent));
            var ctx = new EraContext(host, patches, p.History);
            void Row(string figure, long model, long hostValue, bool delta)
            {
                string F(long v) => delta ? v.ToString("+#;-#;0", CultureInfo.InvariantCulture) : v.ToString(CultureInfo.InvariantCulture);
                var era = model == hostValue ? null : EraDifferences.Explain(figure, ctx);
                var verdict = model == hostValue ? Verdict.Agrees : era is not null ? Verdict.Era : Verdict.Differs;
                string? note = era?.Id;
                _rows.Add(new FigureRow(cp.Name, m.Pid, m.Comm, figure, F(model), F(hostValue), verdict, note));
            }
            foreach (string name in Figures.StatusNames)
            {
                if (!m.Figures.Status.TryGetValue(name, out long mv))
                    continue;
                long mb = m.Baseline.Status.GetValueOrDefault(name);
                long hv = h.Status.GetValueOrDefault(name), hb = p.Baseline.Status.GetValueOrDefault(name);
                Row(name, mv - mb, hv - hb, delta: true);
            }
            if (m.Figures.MinFlt is { } mf && h.MinFlt is { } hf)
                Row("min_flt", mf - (m.Baseline.MinFlt ?? 0), hf - (p.Baseline.MinFlt ?? 0) - p.AgentFaults, delta: true);
            Row("vmas", m.Figures.Vmas.Count, h.Vmas.Count, delta: false);
            string ml = Layout(m.Figures.Vmas), hl = Layout(h.Vmas);
            if (ml != hl)
                _rows.Add(new FigureRow(cp.Name, m.Pid, m.Comm, "maps", ml, hl, EraDifferences.Explain("maps", ctx) is not null ? Verdict.Era : Verdict.Differs));
            Row("present", m.Figures.Present, h.Present, delta: false);
            if (m.Figures.Zero is { } mz && h.Zero is { } hz)
                Row("zero", mz, hz, delta: false);
        }
    }

    private static string Layout(IReadOnlyList<(ulong Start, ulong End, string Perms)> vmas) =>
        string.Join(" ", vmas.Select(v => $"{v.Start:x}-{v.End:x} {v.Perms}"));
}
