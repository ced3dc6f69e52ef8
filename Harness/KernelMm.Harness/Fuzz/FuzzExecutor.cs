using System.Globalization;
using KernelMm.Harness.Matrix;
using KernelMm.Harness.Scripting;
using KernelMm.Model;
using KernelMm.Model.Diagnostics;
using KernelMm.Model.Mm;
using KernelMm.Patches;

namespace KernelMm.Harness.Fuzz;

/// <summary>
/// Runs a <see cref="FuzzProgram"/> under one combination through the scenario API (the
/// globals a script gets), running every invariant check after every call. A call may fail
/// with the kernel's errno (that is an answer, not a finding); anything else the model
/// throws, a kernel warning of a kind that means a broken kernel, or an invariant finding
/// the <see cref="FuzzOracle"/> does not explain, is a failure at that call.
/// Each call is also rendered as the C# line a scenario would have, for the reproducer.
/// </summary>
public sealed class FuzzExecutor(Combination combination, RunLimits? limits = null)
{
    /// <summary>Where the random address ranges fall: 16 MiB either side of a 512 GiB (pgd) boundary.</summary>
    public const ulong ArenaBase = 0x7f7fff000000;
    public const int ArenaPages = 8192;

    /// <summary>Past TASK_SIZE_MAX: bit 3 of D moves a range there.</summary>
    public const ulong BeyondUser = 0x1000000000000;

    private const long Page = 4096;

    private readonly RunLimits _limits = limits ?? new RunLimits(5_000_000, TimeSpan.FromSeconds(60));
    private readonly List<(string Name, ScriptProcess? P)> _procs = [];
    private readonly List<(string Name, ScriptMemcg? M)> _memcgs = [];
    private readonly List<(string Name, ulong? A)> _vmallocs = [];
    private readonly List<(string Name, ScriptModule? M)> _modules = [];
    private readonly List<(string Name, long? Pfn, int Order)> _blocks = [];
    private ScenarioRun _run = null!;
    private ScenarioGlobals _g = null!;
    private int _logSeen;

    /// <summary>Invariant check passes made (each runs every check of <see cref="Kernel.RunChecks"/>).</summary>
    public int Checks { get; private set; }

    /// <summary>What happened at each call: its C# line (null when the call had no handle to act on) and whether it failed with an errno.</summary>
    public readonly record struct StepResult(string? Line, bool Errno, bool CreatesHandle, string? Handle);

    public List<StepResult> Results { get; } = [];

    /// <summary>The failure, or null when every call kept every invariant.</summary>
    public FuzzFailure? Failure { get; private set; }

    public Combination Combination => combination;

    public FuzzExecutor Run(FuzzProgram program)
    {
        _run = new ScenarioRun("fuzz", combination, _limits);
        _g = new ScenarioGlobals(_run);
        _g.Boot(program.Boot.MemoryBytes, program.Boot.Cpus, program.Boot.GbPages, program.Boot.Pti, program.Boot.ProtectPageTables);
        _logSeen = 0;
        if (Check(-1, "Boot") is { } bootFailure)
        {
            Failure = bootFailure;
            return this;
        }
        for (int i = 0; i < program.Steps.Count; i++)
        {
            var step = program.Steps[i];
            string? line = null;
            bool creates = false;
            string? handle = null;
            try
            {
                (line, creates, handle) = Apply(step, program);
                Results.Add(new StepResult(line, false, creates, handle));
            }
            catch (KernelErrnoException)
            {
                (line, creates, handle) = _pending;
                Results.Add(new StepResult(line, true, creates, handle));
            }
            catch (Exception e) when (e is ScenarioLimitException or OperationBudgetExceededException)
            {
                // A workload too large for the budget is not a finding: it ends here.
                Results.Add(new StepResult(_pending.Line, true, _pending.Creates, _pending.Handle));
                return this;
            }
            catch (Exception e)
            {
                Results.Add(new StepResult(_pending.Line, false, _pending.Creates, _pending.Handle));
                Failure = new FuzzFailure(combination, i, _pending.Line ?? step.ToString(), $"{e.GetType().Name}: {e.Message}", e.StackTrace);
                return this;
            }
            if (Check(i, line ?? step.ToString(), step.Call) is { } f)
            {
                Failure = f;
                return this;
            }
        }
        return this;
    }

    private FuzzFailure? Check(int step, string line, FuzzCall? call = null)
    {
        Checks++;
        var k = _run.Kernel;
        var log = k.Log.Warnings;
        var bad = new List<KernelWarning>();
        for (int i = _logSeen; i < log.Count; i++)
        {
            if (log[i].Kind == "bad-page" && log[i].Message.StartsWith("BUG: Bad page state in process", StringComparison.Ordinal))
            {
                // A report is its BUG line and the dump_page lines under it: judged whole.
                int end = i + 1;
                while (end < log.Count && log[end].Kind == "bad-page" && !log[end].Message.StartsWith("BUG: Bad page state", StringComparison.Ordinal))
                    end++;
                var report = new List<KernelWarning>();
                for (int j = i; j < end; j++)
                    report.Add(log[j]);
                if (!FuzzOracle.BadPageReportExplained(report, combination, call))
                    bad.AddRange(report);
                i = end - 1;
                continue;
            }
            if (!FuzzOracle.LogExplained(log[i], combination, k))
                bad.Add(log[i]);
        }
        _logSeen = log.Count;
        foreach (var w in k.RunChecks())
            if (!FuzzOracle.FindingExplained(w, combination))
                bad.Add(w);
        if (bad.Count == 0)
            return null;
        return new FuzzFailure(combination, step, line, string.Join("\n", bad.Take(8).Select(w => $"{w.Kind}: {w.Message}")), null);
    }

    private (string? Line, bool Creates, string? Handle) _pending;

    /// <summary>Resolves the step's handle, renders its line, then makes the call (so a call that throws still has its line).</summary>
    private (string? Line, bool Creates, string? Handle) Apply(FuzzStep s, FuzzProgram program)
    {
        _pending = (null, false, null);
        switch (s.Call)
        {
            case FuzzCall.Spawn:
            {
                string name = $"p{_procs.Count + 1}";
                var cg = _memcgs.Count > 0 && (s.A & 1) == 1 ? _memcgs[s.Target % _memcgs.Count] : default;
                string memcgArg = cg.Name is null ? "" : $", memcg: {Use(cg.Name)}";
                _procs.Add((name, null));
                int slot = _procs.Count - 1;
                Pending($"{name} = Spawn(\"{name}\"{memcgArg})", true, name);
                if (cg.Name is not null && cg.M is null)
                    return _pending with { Line = null };
                _procs[slot] = (name, _g.Spawn(name, cg.M));
                return _pending;
            }
            case FuzzCall.Fork:
            {
                if (Proc(s) is not { } parent)
                    return Skip();
                string name = $"p{_procs.Count + 1}";
                _procs.Add((name, null));
                int slot = _procs.Count - 1;
                Pending($"{name} = {Use(parent.Name)}.Fork(\"{name}\")", true, name);
                _procs[slot] = (name, parent.P!.Fork(name));
                return _pending;
            }
            case FuzzCall.Exit:
                return ProcCall(s, (p, n) => ($"{n}.Exit()", () => p.Exit()));
            case FuzzCall.Mmap:
                return ProcCall(s, (p, n) =>
                {
                    long len = Length(s);
                    var prot = (Prot)(s.C & 7);
                    if ((s.D & 1) == 0)
                        return ($"{n}.Mmap({Hex(len)}, {ProtText(prot)})", () => p.Mmap(len, prot));
                    ulong at = Address(s);
                    return ($"{n}.Mmap({Hex(len)}, {ProtText(prot)}, at: {Hex(at)})", () => p.Mmap(len, prot, at));
                });
            case FuzzCall.Munmap:
                return ProcCall(s, (p, n) => ($"{n}.Munmap({Hex(Address(s))}, {Hex(Length(s))})", () => p.Munmap(Address(s), Length(s))));
            case FuzzCall.Mprotect:
                return ProcCall(s, (p, n) => ($"{n}.Mprotect({Hex(Address(s))}, {Hex(Length(s))}, {ProtText((Prot)(s.C & 7))})", () => p.Mprotect(Address(s), Length(s), (Prot)(s.C & 7))));
            case FuzzCall.MadviseDontNeed:
                return ProcCall(s, (p, n) => ($"{n}.Madvise({Hex(Address(s))}, {Hex(Length(s))}, Advice.DontNeed)", () => p.Madvise(Address(s), Length(s), Advice.DontNeed)));
            case FuzzCall.MadviseFree:
                return ProcCall(s, (p, n) => ($"{n}.Madvise({Hex(Address(s))}, {Hex(Length(s))}, Advice.Free)", () => p.Madvise(Address(s), Length(s), Advice.Free)));
            case FuzzCall.TouchRead or FuzzCall.TouchWrite:
                return ProcCall(s, (p, n) =>
                {
                    var access = s.Call == FuzzCall.TouchWrite ? Access.Write : Access.Read;
                    long stride = Stride(s.C);
                    string strideArg = stride == Page ? "" : $", stride: {Hex(stride)}";
                    return ($"{n}.Touch({Hex(Address(s))}, {Hex(Length(s))}, Access.{access}{strideArg})", () => p.Touch(Address(s), Length(s), access, stride));
                });
            case FuzzCall.ModifyLdt:
                return ProcCall(s, (p, n) => ($"{n}.ModifyLdt({s.A})", () => p.ModifyLdt(s.A)));
            case FuzzCall.SetMemory:
            {
                long nrPages = program.Boot.NrPages;
                long pfn = s.B % nrPages;
                string[] names = ["ReadOnly", "ReadWrite", "NoExec", "Exec", "NotPresent", "Present", "FourK"];
                string op = names[s.A % names.Length];
                ulong addr = _g.Kernel.DirectMapAddress(pfn) + ((s.D & 2) != 0 ? 0x10UL : 0);
                long pages = s.C;
                Pending($"Kernel.SetMemory.{op}({Hex(addr)}, {pages})", false, null);
                var sm = _g.Kernel.SetMemory;
                Action call = op switch
                {
                    "ReadOnly" => () => sm.ReadOnly(addr, pages),
                    "ReadWrite" => () => sm.ReadWrite(addr, pages),
                    "NoExec" => () => sm.NoExec(addr, pages),
                    "Exec" => () => sm.Exec(addr, pages),
                    "NotPresent" => () => sm.NotPresent(addr, pages),
                    "Present" => () => sm.Present(addr, pages),
                    _ => () => sm.FourK(addr, pages),
                };
                call();
                return _pending;
            }
            case FuzzCall.Vmalloc:
            {
                string name = $"v{_vmallocs.Count + 1}";
                _vmallocs.Add((name, null));
                int slot = _vmallocs.Count - 1;
                long bytes = s.A * Page + ((s.D & 4) != 0 ? 100 : 0);
                Pending($"{name} = Kernel.Vmalloc({Hex(bytes)})", true, name);
                _vmallocs[slot] = (name, _g.Kernel.Vmalloc(bytes));
                return _pending;
            }
            case FuzzCall.Vfree:
            {
                if (_vmallocs.Count == 0)
                    return Skip();
                var (name, a) = _vmallocs[s.Target % _vmallocs.Count];
                if (a is not { } addr)
                    return Skip();
                Pending($"Kernel.Vfree({Use(name)})", false, null);
                _g.Kernel.Vfree(addr);
                return _pending;
            }
            case FuzzCall.LoadModule:
            {
                string name = $"mod{_modules.Count + 1}";
                _modules.Add((name, null));
                int slot = _modules.Count - 1;
                long text = s.A * Page + 1, data = s.B * Page;
                Pending($"{name} = Kernel.LoadModule({Hex(text)}, {Hex(data)})", true, name);
                _modules[slot] = (name, _g.Kernel.LoadModule(text, data));
                return _pending;
            }
            case FuzzCall.UnloadModule:
            {
                if (_modules.Count == 0)
                    return Skip();
                var (name, m) = _modules[s.Target % _modules.Count];
                if (m is null)
                    return Skip();
                Pending($"{Use(name)}.Unload()", false, null);
                m.Unload();
                return _pending;
            }
            case FuzzCall.MemcgCreate:
            {
                string name = $"cg{_memcgs.Count + 1}";
                _memcgs.Add((name, null));
                int slot = _memcgs.Count - 1;
                Pending($"{name} = Kernel.Memcg.Create(\"{name}\")", true, name);
                _memcgs[slot] = (name, _g.Kernel.Memcg.Create(name));
                return _pending;
            }
            case FuzzCall.MemcgAttach:
            {
                if (Memcg(s.A) is not { } cg)
                    return Skip();
                return ProcCall(s, (p, n) => ($"{Use(cg.Name)}.Attach({n})", () => cg.M!.Attach(p)));
            }
            case FuzzCall.MemcgMoveCharge:
            {
                if (Memcg(s.Target) is not { } cg)
                    return Skip();
                Pending($"{Use(cg.Name)}.MoveChargeAtImmigrate = {s.A}", false, null);
                cg.M!.MoveChargeAtImmigrate = s.A;
                return _pending;
            }
            case FuzzCall.MemcgRmdir:
            {
                if (Memcg(s.Target) is not { } cg)
                    return Skip();
                Pending($"{Use(cg.Name)}.Rmdir()", false, null);
                cg.M!.Rmdir();
                return _pending;
            }
            case FuzzCall.Reclaim:
                Pending("Kernel.Reclaim()", false, null);
                _g.Kernel.Reclaim();
                return _pending;
            case FuzzCall.FreePtes:
                return ProcCall(s, (p, n) => ($"Kernel.Sysctl.Write(\"vm.free_ptes\", {n}.Pid)", () => _g.Kernel.Sysctl.Write("vm.free_ptes", p.Pid)));
            case FuzzCall.AllocPages:
            {
                string name = $"pg{_blocks.Count + 1}";
                int order = s.A;
                _blocks.Add((name, null, order));
                int slot = _blocks.Count - 1;
                Pending($"{name} = Kernel.AllocPages({order})", true, name);
                _blocks[slot] = (name, _g.Kernel.AllocPages(order), order);
                return _pending;
            }
            case FuzzCall.FreePages:
            {
                if (_blocks.Count == 0)
                    return Skip();
                int slot = s.Target % _blocks.Count;
                var (name, pfn, order) = _blocks[slot];
                if (pfn is not { } first)
                    return Skip();
                // A block is freed once: a second free is the script's bug, not the model's.
                _blocks[slot] = (name, null, order);
                Pending($"Kernel.FreePages({Use(name)}, {order})", false, null);
                _g.Kernel.FreePages(first, order);
                return _pending;
            }
            case FuzzCall.Reboot:
            {
                var b = program.Boot;
                Pending($"Boot(memory: {b.MemoryBytes >> 20}.MiB(), cpus: {b.Cpus}, gbpages: {Bool(b.GbPages)}, pti: {Bool(b.Pti)}, protectPageTables: {Bool(b.ProtectPageTables)})", false, null);
                _g.Boot(b.MemoryBytes, b.Cpus, b.GbPages, b.Pti, b.ProtectPageTables);
                _logSeen = 0;
                // A pfn is no handle: one from the earlier kernel names a page the script does not
                // own in this one (freeing it is the script's bug, which the kernel would BUG on).
                for (int i = 0; i < _blocks.Count; i++)
                    _blocks[i] = (_blocks[i].Name, null, _blocks[i].Order);
                return _pending;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(s), s.Call, "no such fuzz call");
        }
    }

    /// <summary>A handle as a line uses it, marked so that the script can guard a handle some combination did not get.</summary>
    internal static string Use(string handle) => $"\u0001{handle}\u0002";

    private (string?, bool, string?) Skip() => _pending = (null, false, null);

    private void Pending(string line, bool creates, string? handle) => _pending = (line, creates, handle);

    private (string Name, ScriptProcess? P)? Proc(FuzzStep s)
    {
        if (_procs.Count == 0)
            return null;
        var h = _procs[s.Target % _procs.Count];
        return h.P is null ? null : h;
    }

    private (string Name, ScriptMemcg? M)? Memcg(int index)
    {
        if (_memcgs.Count == 0)
            return null;
        var h = _memcgs[(int)((uint)index % (uint)_memcgs.Count)];
        return h.M is null ? null : h;
    }

    private (string?, bool, string?) ProcCall(FuzzStep s, Func<ScriptProcess, string, (string Line, Action Call)> make)
    {
        if (Proc(s) is not { } h)
            return Skip();
        var (line, call) = make(h.P!, Use(h.Name));
        Pending(line, false, null);
        call();
        return _pending;
    }

    private static ulong Address(FuzzStep s)
    {
        ulong a = ArenaBase + (ulong)(s.A % ArenaPages) * Page;
        if ((s.D & 2) != 0)
            a += 0x123;
        if ((s.D & 8) != 0)
            a += BeyondUser;
        return a;
    }

    private static long Length(FuzzStep s) => s.B * Page + ((s.D & 4) != 0 ? 0x321 : 0);

    private static long Stride(int c) => (c % 4) switch
    {
        0 => Page,
        1 => 2 * Page,
        2 => 64 * Page,
        _ => 512 * Page,
    };

    internal static string Hex(long v) => v < 0 ? v.ToString(CultureInfo.InvariantCulture) : "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    internal static string Hex(ulong v) => "0x" + v.ToString("x", CultureInfo.InvariantCulture);

    private static string Bool(bool b) => b ? "true" : "false";

    private static string ProtText(Prot p) => p == Prot.None
        ? "Prot.None"
        : string.Join(" | ", new[] { Prot.Read, Prot.Write, Prot.Exec }.Where(f => (p & f) != 0).Select(f => $"Prot.{f}"));
}
