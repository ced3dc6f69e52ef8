using KernelMm.Harness.Oracle;
using KernelMm.Model.Boot;
using KernelMm.Model.Diagnostics;
using KernelMm.Model.Mm;
using KernelMm.Patches;
using NUnit.Framework;

namespace KernelMm.Harness.Tests.Oracle;

/// <summary>
/// The replay's comparison, driven by hand so the model can be broken on purpose: a model
/// that leaks the PTE table munmap should free disagrees with this machine's kernel on
/// VmPTE, and the oracle says so; the same workload unbroken agrees.
/// <code>
///   0x7fc000000000        +2 MiB
///   |[ 1 MiB written ]....|      munmap: free_pgtables frees the PTE and PMD tables
/// </code>
/// </summary>
[TestFixture, NonParallelizable]
public sealed class OracleReplayerTests
{
    private static readonly Series NoPatches = new([]);

    [TestCase(FaultInjection.None, true)]
    [TestCase(FaultInjection.LeakPageTable, false)]
    public void A_leaked_page_table_is_a_disagreement_on_VmPTE(FaultInjection fault, bool agrees)
    {
        if (!OperatingSystem.IsLinux())
            Assert.Ignore("needs Linux");
        var combination = NoPatches.Parse("none");
        var kernel = NoPatches.Boot(new BootOptions(), combination);
        kernel.Faults = fault;
        var trace = new ReplayTrace(combination);
        var p = kernel.Spawn("leaker", null);
        trace.Spawned(p);

        const ulong at = 0x7fc000000000;
        const long len = 1 << 20;
        p.Mmap(len, at: at);
        trace.Call(new ReplayCall(ReplayKind.Mmap, p.Pid, "mmap") { Addr = at, Length = len, Arg = 3, Arg2 = 0x10, Result = (long)at });
        p.Touch(at, len, Access.Write);
        trace.Call(new ReplayCall(ReplayKind.Touch, p.Pid, "touch") { Addr = at, Length = len, Arg2 = 4096, Arg3 = 1 });
        trace.Checkpoint("written");
        p.Munmap(at, len);
        trace.Call(new ReplayCall(ReplayKind.Munmap, p.Pid, "munmap") { Addr = at, Length = len });
        trace.Checkpoint("unmapped");

        using var session = new HostSession();
        var host = HostKernelProbe.Probe(session);
        var rows = new OracleReplayer(session, host, new HashSet<string>()).Replay(trace);
        var vmpte = rows.Where(r => r.Figure == "VmPTE").ToList();
        Assert.That(vmpte.Select(r => r.Checkpoint), Is.EqualTo(new[] { "written", "unmapped" }));
        Assert.That(vmpte[0].Verdict, Is.EqualTo(Verdict.Agrees), $"{vmpte[0]}");
        Assert.That(vmpte[1].Verdict, Is.EqualTo(agrees ? Verdict.Agrees : Verdict.Differs), $"{vmpte[1]}");
        Assert.That(rows.Where(r => r.Figure != "VmPTE").All(r => r.Verdict == Verdict.Agrees), Is.True,
            string.Join("\n", rows.Where(r => r.Verdict != Verdict.Agrees)));
    }

    [Test]
    public void A_call_the_model_failed_must_fail_on_the_host_with_the_same_errno()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Ignore("needs Linux");
        var combination = NoPatches.Parse("none");
        var kernel = NoPatches.Boot(new BootOptions(), combination);
        var trace = new ReplayTrace(combination);
        var p = kernel.Spawn("prober", null);
        trace.Spawned(p);
        // The model claims munmap of an unaligned address succeeded; the host says EINVAL.
        trace.Call(new ReplayCall(ReplayKind.Munmap, p.Pid, "munmap(0x7fc000000123)") { Addr = 0x7fc000000123, Length = 4096 });
        trace.Call(new ReplayCall(ReplayKind.Munmap, p.Pid, "munmap(0x7fc000000456)") { Addr = 0x7fc000000456, Length = 4096, Failed = Model.Errno.EINVAL });
        trace.Checkpoint("end");

        using var session = new HostSession();
        var rows = new OracleReplayer(session, HostKernelProbe.Probe(session), new HashSet<string>()).Replay(trace);
        var results = rows.Where(r => r.Figure.StartsWith("result of", StringComparison.Ordinal)).ToList();
        Assert.That(results, Has.Count.EqualTo(1));
        Assert.That(results[0].Figure, Does.Contain("0x7fc000000123"));
        Assert.That((results[0].Model, results[0].Host), Is.EqualTo(("0", "-EINVAL")));
    }
}
