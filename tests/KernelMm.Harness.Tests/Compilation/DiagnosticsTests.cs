using KernelMm.Harness.Matrix;
using KernelMm.Harness.Suite;

namespace KernelMm.Harness.Tests.Compilation;

/// <summary>Compile errors and exceptions point at the .csx file, line and column.</summary>
public class DiagnosticsTests
{
    [Test]
    public void A_type_error_gives_path_line_column_and_code()
    {
        using var clone = new TestClone();
        var file = clone.Scenario("Scenarios/bad.csx", "// header\nvar x = 1;\n   int y = \"s\";\n");
        var result = clone.Compiler().Compile(file);
        Assert.That(result.Succeeded, Is.False);
        Assert.That(result.Errors.Select(e => e.ToString()), Is.EqualTo(new[]
        {
            "Scenarios/bad.csx:3:12: error CS0029: Cannot implicitly convert type 'string' to 'int'",
        }));
    }

    [Test]
    public void A_syntax_error_is_reported_and_nothing_runs()
    {
        using var clone = new TestClone();
        var file = clone.Scenario("Scenarios/syntax.csx", "Record(\"a\", 1;\n");
        var report = clone.Runner().Run(file);
        Assert.That(report.Status, Is.EqualTo(ScenarioStatus.CompileError));
        Assert.That(report.CompileErrors.Select(e => e.ToString()), Has.Some.StartsWith("Scenarios/syntax.csx:1:14: error CS1026: "));
        Assert.That(report.Results, Is.Empty);
        Assert.That(Directory.Exists(clone.Repo.SnapshotsDir), Is.False, "no snapshot for a script that does not compile");
    }

    [Test]
    public void An_error_in_a_loaded_file_names_that_file()
    {
        using var clone = new TestClone();
        clone.Write("Scenarios/lib/helpers.csx", "long Twice(long x) => x * 2;\nlong Broken() => undefinedThing;\n");
        var file = clone.Scenario("Scenarios/uses.csx", "#load \"lib/helpers.csx\"\nRecord(\"x\", Twice(2));\n");
        var result = clone.Compiler().Compile(file);
        Assert.That(result.Errors.Select(e => e.ToString()), Is.EqualTo(new[]
        {
            "Scenarios/lib/helpers.csx:2:18: error CS0103: The name 'undefinedThing' does not exist in the current context",
        }));
    }

    [Test]
    public void An_exception_names_the_script_line_and_the_combination()
    {
        using var clone = new TestClone();
        var file = clone.Scenario("Scenarios/throws.csx",
            "for (int i = 0; i < 3; i++) { Record(\"i\", i); }\nwhile (false) { }\nvar list = new List<int>();\n\nthrow new InvalidOperationException(\"boom\");\n");
        var report = clone.Runner().Run(file);
        Assert.That(report.Status, Is.EqualTo(ScenarioStatus.Threw));
        var failure = report.Results.Single().Failure!;
        Assert.That(failure.Location, Is.EqualTo("Scenarios/throws.csx:5"));
        Assert.That(failure.Message, Is.EqualTo("InvalidOperationException: boom"));
        Assert.That(report.Problems(), Has.Some.EqualTo("Scenarios/throws.csx:5: InvalidOperationException: boom [patches: none]"));
        Assert.That(Directory.Exists(clone.Repo.SnapshotsDir), Is.False, "no snapshot for a scenario that threw");
    }

    [Test]
    public void A_model_error_names_the_call_and_the_script_line()
    {
        using var clone = new TestClone();
        var file = clone.Scenario("Scenarios/einval.csx", "var pfn = Kernel.AllocPages(0);\nKernel.FreePages(pfn, 42);\n");
        var failure = clone.Runner().Run(file).Results.Single().Failure!;
        Assert.That(failure.Location, Is.EqualTo("Scenarios/einval.csx:2"));
        Assert.That(failure.Message, Does.Contain("__free_pages").And.Contain("EINVAL"));
    }

    [Test]
    public void An_exception_in_a_loaded_helper_names_the_helper_line_first()
    {
        using var clone = new TestClone();
        clone.Write("Scenarios/lib/h.csx", "void Fail()\n{\n    throw new ArgumentException(\"bad\");\n}\n");
        var file = clone.Scenario("Scenarios/main.csx", "#load \"lib/h.csx\"\n\nFail();\n");
        var failure = clone.Runner().Run(file).Results.Single().Failure!;
        Assert.That(failure.Location, Is.EqualTo("Scenarios/lib/h.csx:3"));
        Assert.That(failure.ScriptStack, Does.Contain("Scenarios/main.csx:3"));
    }

    [Test]
    public void Only_the_combinations_that_throw_fail_and_the_others_still_run()
    {
        using var clone = new TestClone();
        var series = Fakes.FakePatches.Of(new Fakes.FakePatches.Invisible("x", 1), new Fakes.FakePatches.Invisible("y", 2));
        var file = clone.Scenario("Scenarios/some.csx", "Record(\"n\", 1);\nif (Patches.IsApplied(\"y\"))\n    throw new Exception(\"y breaks it\");\n");
        var report = clone.Runner(series).Run(file);
        Assert.That(report.Results.Select(r => r.Status), Is.EqualTo(new[]
        {
            CombinationStatus.Completed, CombinationStatus.Completed, CombinationStatus.Threw, CombinationStatus.Threw,
        }));
        Assert.That(report.Problems(), Is.EqualTo(new[]
        {
            "Scenarios/some.csx:3: Exception: y breaks it [patches: y] (the same in 2 combinations: y)",
        }), "one line for the same failure, with the formula of the combinations it happens in");
    }

    [Test]
    public void Different_failures_are_reported_apart()
    {
        using var clone = new TestClone();
        var series = Fakes.FakePatches.Of(new Fakes.FakePatches.Invisible("x", 1), new Fakes.FakePatches.Invisible("y", 2));
        var file = clone.Scenario("Scenarios/two.csx", "if (Patches.IsApplied(\"x\"))\n    throw new Exception(\"x\");\nthrow new Exception(\"not x\");\n");
        var report = clone.Runner(series).Run(file);
        Assert.That(report.Problems(), Is.EqualTo(new[]
        {
            "Scenarios/two.csx:3: Exception: not x [patches: none] (the same in 2 combinations: !x)",
            "Scenarios/two.csx:2: Exception: x [patches: x] (the same in 2 combinations: x)",
        }));
        Assert.That(clone.Runner().Run(clone.Scenario("Scenarios/one.csx", "throw new Exception(\"once\");\n")).Problems(),
            Is.EqualTo(new[] { "Scenarios/one.csx:1: Exception: once [patches: none]" }), "a series of one combination says nothing more");
    }
}
