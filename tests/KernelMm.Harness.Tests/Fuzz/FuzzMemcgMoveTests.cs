using KernelMm.Harness.Fuzz;
using KernelMm.Model;
using KernelMm.Model.Boot;
using KernelMm.Model.Diagnostics;
using KernelMm.Model.Mm;
using KernelMm.Patches;

namespace KernelMm.Harness.Tests.Fuzz;

/// <summary>The fuzz's memcg moves: executed through the scenario API, judged by the oracle, printed as a scenario.</summary>
public class FuzzMemcgMoveTests
{
    // p1 in the root; cg1, cg2; p2 spawned into cg1 writes 2 MiB; cg2 gets MOVE_ANON and p2 moves
    // there; cg1 is removed (dying: its tables' kmem leaks), cg2 is busy; a move into the
    // removed cg1, a bad knob value; p2 unmaps and exits.
    private static readonly FuzzProgram Workload = new(new BootOptions(128L << 20, 2, true, true, false),
    [
        new FuzzStep(FuzzCall.Spawn),
        new FuzzStep(FuzzCall.MemcgCreate),
        new FuzzStep(FuzzCall.MemcgCreate),
        new FuzzStep(FuzzCall.Spawn, Target: 0, A: 1),
        new FuzzStep(FuzzCall.Mmap, Target: 1, A: 3072, B: 512, C: 3, D: 1),
        new FuzzStep(FuzzCall.TouchWrite, Target: 1, A: 3072, B: 512),
        new FuzzStep(FuzzCall.MemcgMoveCharge, Target: 1, A: 1),
        new FuzzStep(FuzzCall.MemcgAttach, Target: 1, A: 1),
        new FuzzStep(FuzzCall.MemcgRmdir, Target: 0),
        new FuzzStep(FuzzCall.MemcgRmdir, Target: 1),
        new FuzzStep(FuzzCall.MemcgAttach, Target: 1, A: 0),
        new FuzzStep(FuzzCall.MemcgMoveCharge, Target: 1, A: 4),
        new FuzzStep(FuzzCall.Munmap, Target: 1, A: 3072, B: 512),
        new FuzzStep(FuzzCall.Exit, Target: 1),
    ]);

    [Test]
    public void MovesKeepEveryInvariantUnderEveryCombinationAndPrintAsAScenario()
    {
        var runs = Series.Posted.Combinations().Select(c => new FuzzExecutor(c).Run(Workload)).ToList();
        Assert.That(runs.Select(r => r.Failure), Is.All.Null, () => string.Join("\n", runs.Select(r => r.Failure).OfType<FuzzFailure>()));
        string script = FuzzScript.Render(Workload, runs, null);
        Assert.Multiple(() =>
        {
            Assert.That(script, Does.Contain("var p2 = Spawn(\"p2\", memcg: cg1);\n"));
            Assert.That(script, Does.Contain("\ncg2.MoveChargeAtImmigrate = 1;\ncg2.Attach(p2);\ncg1.Rmdir();\n"), "the calls that succeed everywhere, as they are");
            Assert.That(script, Does.Contain("\nTry(() => cg2.Rmdir());\n"), "EBUSY: p2 is in cg2");
            Assert.That(script, Does.Contain("\nTry(() => cg1.Attach(p2));\n"), "ENODEV: cg1 was removed");
            Assert.That(script, Does.Contain("\nTry(() => cg2.MoveChargeAtImmigrate = 4);\n"), "EINVAL: not in MOVE_MASK");
        });
    }

    [Test]
    public void TheOracleDoesNotExplainAMoveThatForgetsItsCounters()
    {
        var k = new Kernel(new BootOptions(128L << 20));
        var a = k.Memcgs.Create("a");
        var b = k.Memcgs.Create("b");
        var p = k.Spawn("worker", a);
        ulong buf = p.Mmap(1L << 20, at: 0x7f0000000000);
        p.Touch(buf, 1L << 20, Access.Write);
        k.Memcgs.SetMoveChargeAtImmigrate(b, Memcg.MOVE_ANON);
        k.Faults = FaultInjection.SkipMoveChargeCounters;
        k.Memcgs.Attach(p, b);
        var findings = k.RunChecks();
        Assert.That(findings, Has.Count.EqualTo(2), "both cgroups' memory counters disagree with their pages");
        foreach (var c in Series.Posted.Combinations())
            Assert.That(findings.Where(w => FuzzOracle.FindingExplained(w, c)), Is.Empty, $"under {c.Label}");
    }
}
