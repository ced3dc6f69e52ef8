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

    // Found by kmm fuzz --seed 100 once moves made cgroups common: free_ptes without 1/5 frees a
    // zero-page PTE table charged to cg1 with __free_page, and free_pages_check reports it.
    private static readonly FuzzProgram FreePtesOfAChargedTable = new(new BootOptions(256L << 20, 4, true, false, false),
    [
        new FuzzStep(FuzzCall.Spawn),
        new FuzzStep(FuzzCall.MemcgCreate),
        new FuzzStep(FuzzCall.Mmap, Target: 0, A: 0xe1e, B: 1024, C: 5, D: 1),
        new FuzzStep(FuzzCall.MemcgAttach),
        new FuzzStep(FuzzCall.TouchRead, Target: 0, A: 4096, B: 1536),
        new FuzzStep(FuzzCall.FreePtes),
    ]);

    [Test]
    public void FreePtesOfATableChargedToACgroupIsTheKnownReportWithoutKmemUnchargeFree()
    {
        var runs = Series.Posted.Combinations().Select(c => new FuzzExecutor(c).Run(FreePtesOfAChargedTable)).ToList();
        Assert.That(runs.Select(r => r.Failure), Is.All.Null, () => string.Join("\n", runs.Select(r => r.Failure).OfType<FuzzFailure>()));
    }

    [Test]
    public void TheOracleExplainsStillChargedOnlyAtFreePtesWithoutKmemUnchargeFree()
    {
        IReadOnlyList<KernelWarning> report =
        [
            new("bad-page", "BUG: Bad page state in process p1  pfn:0fb1e"),
            new("bad-page", "page dumped because: page still charged to cgroup"),
            new("bad-page", "page->mem_cgroup:cg1"),
        ];
        var combos = Series.Posted.Combinations().ToList();
        var without = combos.First(c => c.IsApplied("pte-refcount") && !c.IsApplied("kmem-uncharge-free"));
        var with = combos.First(c => c.IsApplied("pte-refcount") && c.IsApplied("kmem-uncharge-free"));
        Assert.Multiple(() =>
        {
            Assert.That(FuzzOracle.BadPageReportExplained(report, without, FuzzCall.FreePtes), Is.True);
            Assert.That(FuzzOracle.BadPageReportExplained(report, with, FuzzCall.FreePtes), Is.False, "1/5 uncharges in free_pages_prepare");
            Assert.That(FuzzOracle.BadPageReportExplained(report, without, FuzzCall.Munmap), Is.False, "only free_ptes frees a charged table with __free_page");
            Assert.That(FuzzOracle.BadPageReportExplained(report, without, FuzzCall.MemcgAttach), Is.False);
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
