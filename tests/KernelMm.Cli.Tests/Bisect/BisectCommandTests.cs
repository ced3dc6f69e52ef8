namespace KernelMm.Cli.Tests.Bisect;

/// <summary>
/// <c>kmm bisect</c>, <c>check</c>, <c>compare</c>, <c>report</c> and <c>run --shard</c> end to end,
/// through the real entry point, on a clone with the upstream series: the exit-code contracts
/// (git bisect run's 0/1/125 and 128 for <c>check</c>) and what each prints.
/// </summary>
[NonParallelizable]
public class BisectCommandTests
{
    // What it records depends on pte-refcount only: a known answer for every command.
    private const string Script = """
        // Records whether vm.free_ptes exists (pte-refcount).
        var p = Spawn("app");
        var buf = p.Mmap(4.MiB(), at: 0x7f0000000000);
        p.Touch(buf, 4.MiB(), Access.Read);
        Checkpoint("read");
        Record("free_ptes", Kernel.Sysctl.Write("vm.free_ptes", p.Pid));
        Record("VmPTE kB", p.Status["VmPTE"]);
        """;

    private KmmClone _clone = null!;

    [SetUp]
    public void SetUp()
    {
        _clone = new KmmClone();
        _clone.Write("Scenarios/ptes.csx", Script);
    }

    [TearDown]
    public void TearDown() => _clone.Dispose();

    [Test]
    public void Check_exits_0_good_1_bad_125_cannot_test_and_128_on_a_usage_mistake()
    {
        const string where = "Recorded[\"free_ptes\"] == true";
        var bad = _clone.Kmm("check", "Scenarios/ptes.csx", "--patches", "pte-refcount", "--where", where);
        Assert.That(bad.ExitCode, Is.EqualTo(1), bad.ToString());
        Assert.That(bad.Out, Is.EqualTo("bad [patches: pte-refcount]: Recorded[\"free_ptes\"] == true, at any checkpoint: holds at 'end'\n"));
        Assert.That(_clone.Kmm("check", "Scenarios/ptes.csx", "--patches", "kaiser-nr-overhead,grouped-pages", "--where", where).ExitCode, Is.EqualTo(0));
        Assert.That(_clone.Kmm("check", "Scenarios/ptes.csx", "--patches", "none").ExitCode, Is.EqualTo(0), "without --where: the base kernel equals itself");
        Assert.That(_clone.Kmm("check", "Scenarios/ptes.csx").ExitCode, Is.EqualTo(1), "--patches defaults to all, which differs from none");

        var unknown = _clone.Kmm("check", "Scenarios/ptes.csx", "--patches", "not-yet-written", "--where", where);
        Assert.That(unknown.ExitCode, Is.EqualTo(125), unknown.ToString());
        Assert.That(unknown.Err, Does.StartWith("cannot test: no patch 'not-yet-written' in the posted series"));
        Assert.That(_clone.Kmm("check", "Scenarios/missing.csx", "--where", where).ExitCode, Is.EqualTo(125));
        _clone.Write("Scenarios/throws.csx", "throw new InvalidOperationException(\"not at this revision\");\n");
        Assert.That(_clone.Kmm("check", "Scenarios/throws.csx").ExitCode, Is.EqualTo(125));

        var typo = _clone.Kmm("check", "Scenarios/ptes.csx", "--where", "Recordd[\"x\"] > 0");
        Assert.That(typo.ExitCode, Is.EqualTo(128), typo.ToString());
        Assert.That(typo.Err, Is.EqualTo("--where:1:1: error CS0103: The name 'Recordd' does not exist in the current context\n"));
        Assert.That(_clone.Kmm("check", "Scenarios/ptes.csx", "--wher", where).ExitCode, Is.EqualTo(128), "an unknown option aborts git bisect run");
        Assert.That(_clone.Kmm("check", "Scenarios/ptes.csx", "--where").ExitCode, Is.EqualTo(128), "so does a missing value");
        Assert.That(_clone.Kmm("check").ExitCode, Is.EqualTo(128));
        Assert.That(_clone.Kmm("show", "--patchez", "none").ExitCode, Is.EqualTo(2), "other commands keep exit code 2");
    }

    [Test]
    public void Bisect_prints_the_first_bad_patch_the_cause_and_the_effects()
    {
        var r = _clone.Kmm("bisect", "Scenarios/ptes.csx", "--where", "Recorded[\"free_ptes\"] == true");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Contain("\nfirst bad prefix: [1-5] pte-refcount\n"));
        Assert.That(r.Out, Does.Contain("\n{pte-refcount}: smallest; bad in all 16 combinations that apply it; necessary: every bad combination applies it\n"));
        Assert.That(r.Out, Does.Match(@"\npte-refcount\n(  .*\n)*  end: process 300 \(app\)\.VmPTE +-8\n"), "two zero-page tables freed");
        Assert.That(r.Out, Does.Match(@"\n32 combinations run in \d+\.\d\d s"));

        var quick = _clone.Kmm("bisect", "Scenarios/ptes.csx", "--quick", "--where", "Recorded[\"free_ptes\"] == true");
        Assert.That(quick.Out, Does.Contain("combinations run: 5 of 32").And.Contain("first bad prefix: [1-5] pte-refcount"), quick.ToString());
        Assert.That(quick.Out, Does.Not.Contain("## minimal causes"));
    }

    [Test]
    public void Bisect_refuses_what_cannot_mean_anything()
    {
        var typo = _clone.Kmm("bisect", "Scenarios/ptes.csx", "--where", "Vmstat[\"nr_fre_pages\"] > 0");
        Assert.That(typo.ExitCode, Is.EqualTo(2), typo.ToString());
        Assert.That(typo.Out, Does.Contain("warning: the expression read a missing name at every checkpoint of every combination"));
        var checkpoint = _clone.Kmm("bisect", "Scenarios/ptes.csx", "--checkpoint", "nowhere");
        Assert.That(checkpoint.ExitCode, Is.EqualTo(2));
        Assert.That(checkpoint.Err, Is.EqualTo("kmm: --checkpoint 'nowhere': the scenario has no such checkpoint (it has: 'read', 'end')\n"));
        Assert.That(_clone.Kmm("bisect", "Scenarios/none.csx").ExitCode, Is.EqualTo(2));
        var bad = _clone.Kmm("bisect", "Scenarios/ptes.csx", "--where", "Vmstat[\"x\"]");
        Assert.That(bad.ExitCode, Is.EqualTo(2));
        Assert.That(bad.Err, Does.Contain("--where:1:1: error CS0029: Cannot implicitly convert type 'long' to 'bool'"));
    }

    [Test]
    public void Compare_prints_the_differing_rows()
    {
        var r = _clone.Kmm("compare", "Scenarios/ptes.csx", "--base", "none", "--head", "pte-refcount", "--checkpoint", "end");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.StartWith("scenario: ptes\nbase: none\nhead: pte-refcount\n\ncheckpoint: end\n            base        %change             head\n"));
        Assert.That(r.Out, Does.Match(@"\n +\d+ +-\d+\.\d% +\d+  process 300 \(app\)\.VmPTE\n"));
        Assert.That(r.Out, Does.Not.Contain("checkpoint: read"));
        Assert.That(_clone.Kmm("compare", "Scenarios/ptes.csx", "--base", "nope").ExitCode, Is.EqualTo(2));
    }

    [Test]
    public void Report_and_shards()
    {
        _clone.Write("Scenarios/two.csx", "Record(\"x\", 1);\n");
        _clone.Write("Scenarios/three.csx", "Record(\"x\", 2);\n");
        var first = _clone.Kmm("run", "--shard", "1/2");
        var second = _clone.Kmm("run", "--shard", "2/2");
        string table = first.Out + second.Out;
        foreach (var s in new[] { "ptes", "three", "two" })
            Assert.That(table.Split('\n').Count(l => l.Contains($"Scenarios/{s}.csx")), Is.EqualTo(1), $"{s} runs in exactly one shard\n{table}");
        Assert.That(_clone.Kmm("run", "--shard", "3/2").ExitCode, Is.EqualTo(2));

        var report = _clone.Kmm("report", "--markdown");
        Assert.That(report.ExitCode, Is.EqualTo(0), report.ToString());
        Assert.That(report.Out, Does.StartWith("## kmm snapshot report\n\nCompared received snapshots against the verified ones: 3 scenarios differ.\n"));
        Assert.That(report.Out, Does.Match(@"\n\| `ptes` \| new \| \d \(new\) \| all 32 \|\n"));
        var plain = _clone.Kmm("report", "Scenarios/two.csx");
        Assert.That(plain.Out, Does.StartWith("compared received snapshots against the verified ones: 1 scenario changed\n\ntwo: added, outcomes 0 -> 2\n--- /dev/null\n"), plain.ToString());
        var against = _clone.Kmm("report", "--markdown", "--against", "HEAD");
        Assert.That(against.ExitCode, Is.EqualTo(2), "not a git work tree\n" + against);
    }
}
