using KernelMm.Harness.Fuzz;
using KernelMm.Patches;

namespace KernelMm.Harness.Tests.Fuzz;

/// <summary>The stateful property over random workloads, from a fixed seed: every combination, every invariant after every call.</summary>
public class FuzzCampaignTests
{
    [Test]
    public void RandomWorkloadsKeepEveryInvariantUnderEveryCombination()
    {
        var report = new FuzzCampaign(Series.Posted, maxSteps: 25).Run(seed: 23, tests: 16);
        TestContext.Out.WriteLine($"{report.Workloads} workloads, {report.CombinationRuns} combination runs, {report.Calls} calls, {report.CheckPasses} check passes, {report.Elapsed.TotalSeconds:0.0} s");
        Assert.That(report.Failure, Is.Null, () => $"{report.Failure}\n\nminimal scenario:\n{report.Script}");
    }
}
