using KernelMm.Harness.Repo;

namespace KernelMm.Harness.Tests.Repo;

/// <summary>Scenario costs for shard balancing: measured by the last run, else estimated from the verified snapshot.</summary>
public class ScenarioCostsTests
{
    private const string Snapshot = """
        scenario: x
        combinations: 4
        outcomes: 2

        ## outcome 1 of 2: a (3 combinations)
        ### checkpoint: early
        #### events
        pgalloc_dma32 100
        pgfree 50
        pgfault 10
        ### checkpoint: end
        #### events
        pgalloc_dma32 1000
        pgalloc_normal 0
        pgfree 500
        pglazyfree 7
        pgfault 100
        #### recorded
        pgfault 999999
        ## outcome 2 of 2: !a (1 combination)
        ### checkpoint: end
        #### events
        pgfault 4000

        """;

    [Test]
    public void The_estimate_counts_each_outcomes_last_checkpoint_once_per_combination()
    {
        // Outcome 1: 3 combinations of 1600 events at its last checkpoint (a Record() named pgfault is no event).
        double expected = 4 * ScenarioCosts.PerCombinationEvents + 3 * (1000 + 0 + 500 + 100) + 1 * 4000;
        Assert.That(ScenarioCosts.Estimate(Snapshot, 4), Is.EqualTo(expected));
        Assert.That(ScenarioCosts.Estimate(null, 4), Is.EqualTo(4 * ScenarioCosts.PerCombinationEvents));
    }

    [Test]
    public void Measured_costs_are_kept_and_scale_the_estimates_of_the_rest()
    {
        using var dir = new TempDir();
        File.WriteAllText(Path.Combine(dir.Path, RepoLayout.SolutionFile), "");
        var repo = new RepoLayout(dir.Path);
        var costs = ScenarioCosts.Load(repo);
        Assert.That(costs.Measured, Is.Empty, "a fresh clone has measured nothing");
        costs.Record("m", 2.0);
        costs.Save();

        var again = ScenarioCosts.Load(repo);
        Assert.That(again.Measured, Is.EqualTo(new Dictionary<string, double> { ["m"] = 2.0 }));
        var m = new ScenarioFile("/m.csx", "m.csx", "m", "m");
        var u = new ScenarioFile("/u.csx", "u.csx", "u", "u");
        // m is estimated at 1 combination's fixed part and measured at 2 s; u's estimate is three times m's.
        var given = again.For([m, u], f => f.Name, f => f.Name == "m" ? null : "## outcome 1 of 1: all (1 combination)\n### checkpoint: end\n#### events\npgfault 40000\n", 1);
        Assert.That(given[0], Is.EqualTo(2.0));
        Assert.That(given[1], Is.EqualTo(6.0).Within(1e-9));
    }
}
