using System.Runtime.Loader;
using KernelMm.Harness.Scripting;
using KernelMm.Harness.Suite;

namespace KernelMm.Harness.Tests.Compilation;

/// <summary>
/// NUnit3TestAdapter has twice broken Roslyn scripting through assembly load contexts: a
/// script compiled and run inside the test host must see the harness's own types (the
/// globals it is handed are cast to the type it was compiled against).
/// </summary>
public class InTestHostTests
{
    [Test]
    public void A_scenario_compiles_and_runs_inside_the_test_host()
    {
        using var clone = new TestClone();
        var file = clone.Scenario("Scenarios/host.csx", """
            // Exercises the globals: boot, processes, sizes, enums, records.
            Boot(memory: 256.MiB(), cpus: 2);
            var p = Spawn("host-test");
            var buf = p.Mmap(2.MiB());
            p.Touch(buf, 2.MiB(), Access.Write);
            Record("VmRSS", p.Status["VmRSS"]);
            Record("random", Random.Int(0, 1000));
            """);
        var report = clone.Runner().Run(file);
        Assert.That(report.Failures, Is.Empty, string.Join("\n", report.Problems()));
        Assert.That(report.Status, Is.EqualTo(ScenarioStatus.New));
        Assert.That(report.Snapshot, Does.Contain("VmRSS = 2052\n"));
        Assert.That(report.Snapshot, Does.Contain("##### process 300 (host-test)"));
    }

    [Test]
    public void The_harness_is_loaded_where_the_script_resolves_it()
    {
        // The compiled script binds to ScenarioGlobals through the context that loaded the
        // harness; it must be the same context this test host put the harness in.
        var harness = AssemblyLoadContext.GetLoadContext(typeof(ScenarioGlobals).Assembly);
        var tests = AssemblyLoadContext.GetLoadContext(typeof(InTestHostTests).Assembly);
        Assert.That(harness, Is.SameAs(tests));
    }
}
