using KernelMm.Harness.Suite;

namespace KernelMm.Harness.Tests.Compilation;

/// <summary>
/// <c>kmm run</c> compiles the scenarios after the first on a background thread while the
/// first's combinations run: what each scenario's own Compile call gets is what compiling on
/// demand gives, a fresh compile still reported as one, an error still an error.
/// </summary>
public class PrefetchTests
{
    [Test]
    public void A_scenario_compiled_ahead_is_reported_as_compiled_and_runs()
    {
        using var clone = new TestClone();
        var files = Enumerable.Range(0, 4).Select(i => clone.Scenario($"Scenarios/s{i}.csx", $"Record(\"v\", {i});\n")).ToList();
        var compiler = clone.Compiler();
        compiler.Prefetch(files);
        var results = files.Select(compiler.Compile).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(results.Select(r => r.Succeeded), Is.All.True);
            Assert.That(results.Select(r => r.FromCache), Is.All.False, "each was compiled by Roslyn once, ahead or on demand, and says so");
            Assert.That(compiler.Compile(files[2]).FromCache, Is.True, "asked again: from memory");
            Assert.That(Directory.EnumerateDirectories(clone.Repo.CacheDir).Count(), Is.EqualTo(4), "one cache entry each");
        });
        var report = new SuiteRunner(KernelMm.Patches.Series.Posted, compiler, store: null, KernelMm.Harness.Matrix.RunLimits.Default).Run(files[3]);
        Assert.That(report.Snapshot, Does.Contain("v = 3"));
    }

    [Test]
    public void A_compile_error_found_ahead_is_the_error_on_demand()
    {
        using var clone = new TestClone();
        var good = clone.Scenario("Scenarios/a.csx", "Record(\"v\", 1);\n");
        var bad = clone.Scenario("Scenarios/b.csx", "Record(\"v\", 1)\nint x = \"s\";\n");
        var onDemand = clone.Compiler().Compile(bad);
        Assume.That(onDemand.Succeeded, Is.False);
        var compiler = clone.Compiler();
        compiler.Prefetch([good, bad]);
        Assert.That(compiler.Compile(good).Succeeded, Is.True);
        var ahead = compiler.Compile(bad);
        Assert.Multiple(() =>
        {
            Assert.That(ahead.Succeeded, Is.False);
            Assert.That(ahead.Errors.Select(e => e.ToString()), Is.EqualTo(onDemand.Errors.Select(e => e.ToString())));
        });
    }
}
