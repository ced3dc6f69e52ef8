namespace KernelMm.Cli.Tests.Oracle;

/// <summary>
/// <c>kmm oracle</c> end to end through the real entry point: its exit codes (0 agree,
/// 1 a figure differs or the scenario failed, 125 the host cannot replay, 2 usage) and what
/// it prints of the host and of calls it does not replay.
/// </summary>
[NonParallelizable]
public class OracleCommandTests
{
    private KmmClone _clone = null!;

    [SetUp]
    public void SetUp()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Ignore("the oracle replays on Linux");
        _clone = new KmmClone();
    }

    [TearDown]
    public void TearDown() => _clone?.Dispose();

    [Test]
    public void A_plain_workload_agrees_and_kernel_calls_are_listed_as_not_replayed()
    {
        _clone.Write("Scenarios/w.csx", """
            var p = Spawn("w");
            var a = p.Mmap(4.MiB());
            p.Touch(a, 4.MiB(), Access.Write);
            Kernel.SetMemory.ReadOnly(Kernel.DirectMapAddress(Kernel.AllocPages()), 1);
            Checkpoint("written");
            """);
        var r = _clone.Kmm("oracle", "Scenarios/w.csx");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Contain("host kernel: Linux "));
        Assert.That(r.Out, Does.Contain("not replayed: Kernel.SetMemory.ReadOnly"));
        Assert.That(r.Out, Does.Contain("not replayed: Kernel.AllocPages"));
        Assert.That(r.Out, Does.Match(@"\d+ \(w\) +VmRSS +\+4096 +\+4096\n"));
        Assert.That(r.Out, Does.Contain(" 0 differ,"));
    }

    [Test]
    public void A_mapping_outside_the_replayed_window_cannot_be_replayed_125()
    {
        _clone.Write("Scenarios/low.csx", """
            var p = Spawn("low");
            p.Mmap(1.MiB(), at: 0x100000000);
            """);
        var r = _clone.Kmm("oracle", "Scenarios/low.csx");
        Assert.That(r.ExitCode, Is.EqualTo(125), r.ToString());
        Assert.That(r.Err, Does.Contain("outside the replayed window"));
    }

    [Test]
    public void A_scenario_that_throws_in_the_model_is_exit_1_with_its_line()
    {
        _clone.Write("Scenarios/throws.csx", """
            var p = Spawn("t");
            p.Munmap(0x7fc000000123, 4096);
            """);
        var r = _clone.Kmm("oracle", "Scenarios/throws.csx");
        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.Out, Does.Contain("throws.csx:2"));
        Assert.That(r.Out, Does.Contain("EINVAL"));
    }

    [TestCase("Scenarios/missing.csx", "no such scenario")]
    [TestCase("Scenarios/bad.csx", "error CS")]
    public void Usage_errors_are_exit_2(string path, string message)
    {
        _clone.Write("Scenarios/bad.csx", "var p = Spawn(;\n");
        var r = _clone.Kmm("oracle", path);
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(r.Err, Does.Contain(message));
    }

    [Test]
    public void An_unknown_patch_is_a_usage_error()
    {
        _clone.Write("Scenarios/w.csx", "Spawn(\"w\");\n");
        var r = _clone.Kmm("oracle", "Scenarios/w.csx", "--patches", "no-such-patch");
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
    }
}
