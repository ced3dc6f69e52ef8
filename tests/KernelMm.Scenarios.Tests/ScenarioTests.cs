using KernelMm.Harness.Snapshots;
using KernelMm.Harness.Suite;

namespace KernelMm.Scenarios.Tests;

/// <summary>
/// One case per Scenarios/**/*.csx, named by its path (<c>Scenario("modules/module-churn")</c>):
/// every combination of the series, grouped into outcomes and verified against its
/// snapshot, exactly as <c>kmm run</c> does. Compiled inside this test host, which also
/// keeps NUnit3TestAdapter's load contexts honest. <c>Upstream</c> runs each under the
/// upstream series, against Snapshots-upstream/, as <c>kmm run --series upstream</c> does.
/// </summary>
public class ScenarioTests
{
    public static IEnumerable<string> Scenarios() => Clone.Repo.Discover([]).Select(f => f.Name);

    [TestCaseSource(nameof(Scenarios))]
    public void Scenario(string name) => RunAndVerify(name, Patches.Series.Posted.Name);

    [TestCaseSource(nameof(Scenarios))]
    public void Upstream(string name) => RunAndVerify(name, Patches.Series.Landed.Name);

    private static void RunAndVerify(string name, string series)
    {
        var file = Clone.Repo.Discover([Path.Combine(Clone.Repo.ScenariosDir, name + ".csx")]).Single();
        var report = Clone.RunnerFor(series).Run(file);
        TestContext.Out.WriteLine($"{file.DisplayPath}: {report.Combinations} combinations, {report.Outcomes.Count} outcomes, " +
            $"compile {report.CompileTime.TotalSeconds:0.00} s{(report.CompiledFromCache ? " (cached)" : "")}, run {report.RunTime.TotalSeconds:0.00} s");
        foreach (var o in report.Outcomes)
            TestContext.Out.WriteLine($"  {o.Formula} ({o.Combinations.Count})");
        if (report.Passed)
        {
            Every_combination_rebuilds_from_the_snapshot(report);
            return;
        }
        var message = string.Join("\n", report.Problems());
        if (report.Verify?.Diff is { Length: > 0 } diff)
            message += "\n" + Head(diff, 80);
        Assert.Fail(message + "\nReview with `kmm diff`, accept with `kmm accept` (or KMM_UPDATE=always).");
    }

    // The snapshot prints shared state once and per outcome what differs: read back, it must
    // still give every combination's whole state, exactly as this run produced it.
    private static void Every_combination_rebuilds_from_the_snapshot(ScenarioReport report)
    {
        string path = Clone.Stores[Patches.Series.All.ToList().FindIndex(s => s.Name == report.Series)].VerifiedPath(report.File.SnapshotId!);
        var states = SnapshotFile.Parse(File.ReadAllText(path)).StatesByCombination();
        Assert.That(states, Has.Count.EqualTo(report.Results.Count));
        foreach (var r in report.Results)
            Assert.That(states[r.Combination.Mask], Is.EqualTo(r.State),
                $"{Clone.Display(path)} does not give back the state of [patches: {r.Combination.Label}]");
    }

    private static string Head(string text, int lines)
    {
        var all = text.Split('\n');
        return all.Length <= lines ? text : string.Join("\n", all.Take(lines)) + $"\n... {all.Length - lines} more diff lines";
    }
}
