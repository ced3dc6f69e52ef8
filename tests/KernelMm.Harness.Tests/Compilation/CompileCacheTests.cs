using KernelMm.Harness.Suite;

namespace KernelMm.Harness.Tests.Compilation;

/// <summary>Compile once per scenario; reuse across runs from .kmm-cache; recompile when the script or a #loaded file changes.</summary>
public class CompileCacheTests
{
    [Test]
    public void A_second_compiler_loads_from_the_disk_cache()
    {
        using var clone = new TestClone();
        var file = clone.Scenario("Scenarios/c.csx", "Record(\"v\", 1);\n");
        Assert.That(clone.Compiler().Compile(file).FromCache, Is.False);
        var again = clone.Compiler().Compile(file);
        Assert.That(again.FromCache, Is.True);
        Assert.That(again.Succeeded, Is.True);
        Assert.That(Directory.EnumerateDirectories(clone.Repo.CacheDir).Count(), Is.EqualTo(1));
    }

    [Test]
    public void Editing_the_script_recompiles_and_replaces_the_old_entry()
    {
        using var clone = new TestClone();
        var file = clone.Scenario("Scenarios/c.csx", "Record(\"v\", 1);\n");
        clone.Compiler().Compile(file);
        clone.Write("Scenarios/c.csx", "Record(\"v\", 2);\n");
        var result = clone.Compiler().Compile(file);
        Assert.That(result.FromCache, Is.False);
        Assert.That(Directory.EnumerateDirectories(clone.Repo.CacheDir).Count(), Is.EqualTo(1), "the stale entry is dropped");
        var report = clone.Runner().Run(file);
        Assert.That(report.Snapshot, Does.Contain("v = 2"));
    }

    [Test]
    public void Editing_a_loaded_file_recompiles_its_includer()
    {
        using var clone = new TestClone();
        clone.Write("Scenarios/lib/k.csx", "const int K = 1;\n");
        var file = clone.Scenario("Scenarios/c.csx", "#load \"lib/k.csx\"\nRecord(\"k\", K);\n");
        clone.Compiler().Compile(file);
        clone.Write("Scenarios/lib/k.csx", "const int K = 7;\n");
        var compiler = clone.Compiler();
        Assert.That(compiler.Compile(file).FromCache, Is.False);
        var report = clone.Runner().Run(file);
        Assert.That(report.Status, Is.EqualTo(ScenarioStatus.New));
        Assert.That(report.Snapshot, Does.Contain("k = 7"));
    }

    [Test]
    public void A_damaged_cache_entry_is_compiled_again()
    {
        using var clone = new TestClone();
        var file = clone.Scenario("Scenarios/c.csx", "Record(\"v\", 1);\n");
        clone.Compiler().Compile(file);
        foreach (var f in Directory.EnumerateFiles(clone.Repo.CacheDir, "manifest.txt", SearchOption.AllDirectories))
            File.WriteAllText(f, "");
        var result = clone.Compiler().Compile(file);
        Assert.That(result.Succeeded, Is.True);
        Assert.That(result.FromCache, Is.False);
    }
}
