using KernelMm.Harness.Fuzz;
using KernelMm.Harness.Matrix;
using KernelMm.Harness.Scripting;
using KernelMm.Patches;

namespace KernelMm.Harness.Tests.Scripting;

/// <summary>A scenario's random source depends on its name and seed only: not on the combination, the process, the machine or the run.</summary>
public class SeedTests
{
    private static int[] Draw(string scenario, int mask)
    {
        var g = new ScenarioGlobals(new ScenarioRun(scenario, Series.Posted.Combination(mask), RunLimits.Default));
        return [.. Enumerable.Range(0, 8).Select(_ => g.Random.Int(0, 1_000_000)).Concat(Enumerable.Range(0, 4).Select(_ => g.Faker.Random.Int(0, 1_000_000)))];
    }

    [Test]
    public void TheSeedIsTheFirstFourBytesOfTheNamesSha256OnEveryMachine()
    {
        // Computed independently (Python's hashlib): the same number in every process and on every machine.
        Assert.That(ScenarioRun.SeedOf("processes/fork-exit-storm"), Is.EqualTo(1365877060));
        Assert.That(ScenarioRun.SeedOf("fuzz"), Is.EqualTo(1879803283));
    }

    [Test]
    public void EveryCombinationDrawsTheSameNumbers()
    {
        var first = Draw("processes/fork-exit-storm", 0);
        foreach (var c in Series.Posted.Combinations())
            Assert.That(Draw("processes/fork-exit-storm", c.Mask), Is.EqualTo(first), c.Label);
        Assert.That(Draw("processes/jemalloc-purge", 0), Is.Not.EqualTo(first), "another scenario, another seed");
    }

    [Test]
    public void AFuzzCampaignFromOneSeedIsTheSameCampaign()
    {
        var a = new FuzzCampaign(Series.Posted, maxSteps: 8).Run(seed: 5, tests: 3);
        var b = new FuzzCampaign(Series.Posted, maxSteps: 8, parallel: 2).Run(seed: 5, tests: 3);
        Assert.That((b.Calls, b.CheckPasses), Is.EqualTo((a.Calls, a.CheckPasses)));
    }
}
