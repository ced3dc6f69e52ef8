namespace KernelMm.Cli.Tests.BadInput;

/// <summary>
/// Scenarios that do not compile, throw or never end, through <c>kmm run</c> and <c>kmm show</c>:
/// each gets one clear message pointing at the .csx line, the contract's exit code (2 for a
/// compile error, 1 for a run failure), and no verified file is written or changed.
/// </summary>
[NonParallelizable]
public class BadScriptTests
{
    private const string Good = "// A scenario that verifies.\nvar p = Spawn(\"worker\");\nvar buf = p.Mmap(1.MiB());\np.Touch(buf, 1.MiB(), Access.Write);\n";

    private KmmClone _clone = null!;

    [SetUp]
    public void SetUp() => _clone = new KmmClone();

    [TearDown]
    public void TearDown() => _clone.Dispose();

    [Test]
    public void A_syntax_error_is_path_line_column_and_code_and_exits_2_while_the_rest_still_verifies()
    {
        _clone.AddVerifiedScenario("good", Good);
        _clone.Write("Scenarios/bad/syntax.csx", "// Report: a missing semicolon.\nvar p = Spawn(\"w\")\nRecord(\"pid\", p.Pid);\n");
        var before = _clone.Snapshots();

        var r = _clone.Kmm("run");

        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(r.ErrLines, Is.EqualTo(new[] { "Scenarios/bad/syntax.csx:2:19: error CS1002: ; expected" }), r.ToString());
        Assert.That(r.Out, Does.Contain("failed: compile error").And.Contain("1 verified, 0 changed, 0 new, 1 failed"));
        before.AssertVerifiedUnchanged(_clone);
        Assert.That(_clone.Snapshots().Received, Is.Empty);
    }

    [Test]
    public void A_type_error_is_path_line_column_and_code_in_run_and_in_show()
    {
        _clone.Write("Scenarios/bad/type.csx", "var p = Spawn(\"w\");\nint pid = p.Pid.ToString();\n");
        const string Expected = "Scenarios/bad/type.csx:2:11: error CS0029: Cannot implicitly convert type 'string' to 'int'";

        var run = _clone.Kmm("run", "Scenarios/bad/type.csx");
        Assert.That(run.ExitCode, Is.EqualTo(2), run.ToString());
        Assert.That(run.ErrLines, Is.EqualTo(new[] { Expected }), run.ToString());

        var show = _clone.Kmm("show", "Scenarios/bad/type.csx", "--patches", "all");
        Assert.That(show.ExitCode, Is.EqualTo(2), show.ToString());
        Assert.That(show.ErrLines, Is.EqualTo(new[] { Expected }), show.ToString());
        Assert.That(show.Out, Is.Empty);
        Assert.That(Directory.Exists(_clone.SnapshotsDir), Is.False, "nothing written for a script that does not compile");
    }

    [Test]
    public void An_exception_names_the_line_once_for_every_combination_and_leaves_the_verified_snapshot_alone()
    {
        _clone.AddVerifiedScenario("throws", Good);
        _clone.Write("Scenarios/throws.csx", Good + "Record(\"rss\", p.Status[\"VmRSS\"]);\nthrow new InvalidOperationException(\"the report's assertion failed\");\n");
        var before = _clone.Snapshots();

        var r = _clone.Kmm("run", "Scenarios/throws.csx");

        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrLines, Is.EqualTo(new[]
        {
            "Scenarios/throws.csx:6: InvalidOperationException: the report's assertion failed [patches: none] (the same in all 32 combinations)",
        }), r.ToString());
        Assert.That(r.Out, Does.Contain("failed: exception"));
        before.AssertVerifiedUnchanged(_clone);
        Assert.That(_clone.Snapshots().Received, Is.Empty, "a scenario that threw writes no received file either");
    }

    [Test]
    public void An_exception_in_some_combinations_says_which_by_formula_and_show_runs_the_others()
    {
        _clone.Write("Scenarios/some.csx", Good + "if (Patches.IsApplied(\"pte-refcount\"))\n    throw new InvalidOperationException(\"only with pte-refcount\");\n");

        var r = _clone.Kmm("run", "Scenarios/some.csx");
        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrLines, Is.EqualTo(new[]
        {
            "Scenarios/some.csx:6: InvalidOperationException: only with pte-refcount [patches: pte-refcount] (the same in 16 combinations: pte-refcount)",
        }), r.ToString());
        Assert.That(Directory.Exists(_clone.SnapshotsDir), Is.False, "no snapshot when any combination threw");

        var bad = _clone.Kmm("show", "Scenarios/some.csx", "--patches", "grouped-pages,pte-refcount");
        Assert.That(bad.ExitCode, Is.EqualTo(1), bad.ToString());
        Assert.That(bad.ErrLines, Is.EqualTo(new[]
        {
            "Scenarios/some.csx:6: InvalidOperationException: only with pte-refcount [patches: grouped-pages,pte-refcount]",
            "    6 | throw new InvalidOperationException(\"only with pte-refcount\");",
            "  at Scenarios/some.csx:6",
        }), bad.ToString());

        var fine = _clone.Kmm("show", "Scenarios/some.csx", "--patches", "grouped-pages");
        Assert.That(fine.ExitCode, Is.EqualTo(0), fine.ToString());
        Assert.That(fine.Out, Does.StartWith("scenario: some\npatches: grouped-pages\n"));
    }

    [Test]
    public void A_loop_that_never_calls_the_model_is_stopped_by_the_wall_clock_and_the_rest_are_not_started()
    {
        _clone.AddVerifiedScenario("spin", Good);
        _clone.Write("Scenarios/spin.csx", Good + "long n = 0;\nwhile (true)\n    n++;\n");
        var before = _clone.Snapshots();

        var r = _clone.Kmm("run", "Scenarios/spin.csx", "--timeout", "1");

        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        var stopped = r.ErrLines.Where(l => l.StartsWith("Scenarios/spin.csx:7: stopped: wall-clock limit of 1 s reached [patches: ", StringComparison.Ordinal)).ToList();
        AssertRemainingNotStarted(r, "Scenarios/spin.csx", stopped.Count);
        Assert.That(r.ErrLines, Has.Some.StartsWith("a limit stopped a run (operations 20000000, wall clock 1 s): fix the loop, or raise them with --max-ops / --timeout"));
        Assert.That(r.Out, Does.Contain("failed: limit"));
        Assert.That(r.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)), "the first combinations stop at 1 s; the others never start");
        before.AssertVerifiedUnchanged(_clone);
        Assert.That(_clone.Snapshots().Received, Is.Empty);
    }

    [Test]
    public void A_loop_that_calls_the_model_forever_is_stopped_by_the_operation_budget_from_the_environment()
    {
        _clone.Write("Scenarios/busy.csx", "var p = Spawn(\"w\");\nwhile (true)\n    Record(\"free\", Kernel.Vmstat[\"nr_free_pages\"]);\n");

        var r = _clone.Invoke(new Dictionary<string, string> { ["KMM_MAX_OPS"] = "5000" }, "run", "Scenarios/busy.csx");

        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        var stopped = r.ErrLines.Where(l => l.StartsWith("Scenarios/busy.csx:3: stopped: operation budget exhausted: more than 5000 calls [patches: ", StringComparison.Ordinal)).ToList();
        AssertRemainingNotStarted(r, "Scenarios/busy.csx", stopped.Count);
        Assert.That(Directory.Exists(_clone.SnapshotsDir), Is.False);
    }

    /// <summary>
    /// Combinations run as many at a time as there are cores: those that started hit the limit
    /// (each reported with its line), and the rest of the 32 were never started.
    /// </summary>
    private static void AssertRemainingNotStarted(KmmResult r, string scenario, int stopped)
    {
        Assert.That(stopped, Is.InRange(1, Math.Min(32, Environment.ProcessorCount)), r.ToString());
        string notStarted = $"{scenario}: {32 - stopped} more combination(s) not started after a limit was hit";
        if (stopped < 32)
            Assert.That(r.ErrLines, Has.Some.EqualTo(notStarted), r.ToString());
    }
}
