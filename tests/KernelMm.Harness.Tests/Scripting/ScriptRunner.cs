using KernelMm.Harness.Suite;

namespace KernelMm.Harness.Tests.Scripting;

/// <summary>Runs a script body in a throwaway clone with an empty series (one combination) and returns its report.</summary>
internal static class ScriptRunner
{
    public static ScenarioReport Run(string body, string name = "Scenarios/api.csx")
    {
        using var clone = new TestClone();
        var file = clone.Scenario(name, body);
        return clone.Runner().Run(file);
    }

    /// <summary>The snapshot of a script that must compile and run without failing.</summary>
    public static string Snapshot(string body, string name = "Scenarios/api.csx")
    {
        var report = Run(body, name);
        Assert.That(report.Failures, Is.Empty, string.Join("\n", report.Problems()));
        return report.Snapshot ?? "";
    }
}
