using KernelMm.Harness.Compilation;
using KernelMm.Harness.Matrix;
using KernelMm.Harness.Oracle;
using KernelMm.Patches;

namespace KernelMm.Scenarios.Tests;

/// <summary>
/// One case per Scenarios/oracle/*.csx: its process calls replayed on this machine's
/// kernel by <c>kmm oracle</c> (with <c>--patches auto</c>), every figure compared with the
/// model's. Fails on any disagreement that no declared difference of era explains
/// (<see cref="EraDifferences"/>). Linux x86-64 only; elsewhere the cases are ignored.
/// </summary>
[NonParallelizable]
public class OracleScenarioTests
{
    public static IEnumerable<string> Scenarios() =>
        Clone.Repo.Discover([Path.Combine(Clone.Repo.ScenariosDir, "oracle")]).Select(f => f.Name);

    [Test]
    public void There_are_at_least_ten_oracle_scenarios() => Assert.That(Scenarios().Count(), Is.GreaterThanOrEqualTo(10));

    [TestCaseSource(nameof(Scenarios))]
    public void Oracle(string name)
    {
        var file = Clone.Repo.Discover([Path.Combine(Clone.Repo.ScenariosDir, name + ".csx")]).Single();
        var compiled = new ScenarioCompiler(Clone.Repo.CacheDir, Clone.Display).Compile(file);
        Assert.That(compiled.Succeeded, Is.True, string.Join("\n", compiled.Errors));
        OracleResult result;
        try
        {
            result = OracleRunner.Run(compiled.Scenario!, RunLimits.Default, host => OracleRunner.Auto(null, host));
        }
        catch (OracleHostException e)
        {
            Assert.Ignore($"this host cannot run the replay: {e.Message}");
            return;
        }
        string report = OracleReport.Render(result);
        TestContext.Out.WriteLine(report);
        Assert.That(result.Failure, Is.Null);
        Assert.That(result.Rows, Is.Not.Empty, "nothing was compared");
        Assert.That(result.Disagreements.Select(r => $"{r.Checkpoint}: {r.Pid} ({r.Comm}) {r.Figure}: model {r.Model}, host {r.Host}"),
            Is.Empty, report);
    }
}
