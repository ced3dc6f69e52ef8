using KernelMm.Cli.Output;
using KernelMm.Harness.Repo;

namespace KernelMm.Cli.Tests.Run;

/// <summary>The heartbeat: a long scenario says it is still running, so a CI log never goes quiet.</summary>
public class ProgressLinesTests
{
    [Test]
    public void A_scenario_running_past_the_heartbeat_says_how_far_it_got()
    {
        var err = new StringWriter { NewLine = "\n" };
        var progress = new ProgressLines(err, total: 2, heartbeat: TimeSpan.Zero);
        progress.Starting(new ScenarioFile("/c/Scenarios/slow.csx", "Scenarios/slow.csx", "slow", "slow"), 32);
        progress.CombinationDone();
        progress.CombinationDone();
        var lines = err.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Has.Length.EqualTo(2));
        Assert.That(lines[1], Does.Match(@"^kmm run: \[1/2\] Scenarios/slow\.csx: 2 of 32 combinations done, still running \(\d+\.\d\d s elapsed\)$"));
    }

    [Test]
    public void Within_the_heartbeat_only_finished_scenarios_print()
    {
        var err = new StringWriter();
        var progress = new ProgressLines(err, total: 1, heartbeat: TimeSpan.FromHours(1));
        progress.Starting(new ScenarioFile("/c/Scenarios/quick.csx", "Scenarios/quick.csx", "quick", "quick"), 32);
        progress.CombinationDone();
        Assert.That(err.ToString(), Is.Empty);
    }
}
