namespace KernelMm.Cli.Tests.Usage;

/// <summary>What a user who mistypes gets: errors with suggestions, the usage exit codes, and the items of issue 17's CLI list.</summary>
[NonParallelizable]
public class UsageTests
{
    private const string Script = """
        // Records whether vm.free_ptes exists (pte-refcount).
        var p = Spawn("app");
        var buf = p.Mmap(4.MiB(), at: 0x7f0000000000);
        p.Touch(buf, 4.MiB(), Access.Read);
        Record("free_ptes", Kernel.Sysctl.Write("vm.free_ptes", p.Pid));
        Record("VmPTE kB", p.Status["VmPTE"]);
        """;

    private KmmClone _clone = null!;

    [SetUp]
    public void SetUp()
    {
        _clone = new KmmClone();
        _clone.Write("Scenarios/ptes.csx", Script);
    }

    [TearDown]
    public void TearDown() => _clone.Dispose();

    [Test]
    public void An_unknown_option_is_an_error_with_a_suggestion()
    {
        var r = _clone.Kmm("run", "--timout", "5");
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(r.ErrLines[0], Is.EqualTo("kmm run: unknown option '--timout' (did you mean --timeout?)"));
        Assert.That(_clone.Kmm("run", "--frob").ErrLines[0], Does.StartWith("kmm run: unknown option '--frob'"));
        Assert.That(_clone.Exists("Snapshots/ptes.verified.txt") || _clone.Exists("Snapshots/ptes.received.txt"), Is.False, "nothing ran");
    }

    [Test]
    public void An_unknown_command_says_so_with_a_suggestion()
    {
        var r = _clone.Kmm("bisekt", "Scenarios/ptes.csx");
        Assert.That(r.ExitCode, Is.EqualTo(2), r.ToString());
        Assert.That(r.ErrLines[0], Is.EqualTo("kmm: unknown command 'bisekt' (did you mean bisect?)"));
    }

    [Test]
    public void Check_with_a_name_no_combination_has_aborts_the_bisection()
    {
        var typo = _clone.Kmm("check", "Scenarios/ptes.csx", "--where", "Vmstat[\"nr_page_table\"] > 0");
        Assert.That(typo.ExitCode, Is.EqualTo(128), typo.ToString());
        Assert.That(typo.Err, Does.Contain("no combination of the posted series has").And.Contain("nr_page_table"));
        // A name only a patch adds is not a typo: without the patch it just does not hold.
        var onlyWithPatch = _clone.Kmm("check", "Scenarios/ptes.csx", "--patches", "none", "--where", "Vmstat[\"nr_overhead\"] > 0");
        Assert.That(onlyWithPatch.ExitCode, Is.EqualTo(0), onlyWithPatch.ToString());
    }

    [Test]
    public void An_unknown_patch_id_is_125_with_the_nearest_ids()
    {
        var r = _clone.Kmm("check", "Scenarios/ptes.csx", "--patches", "pte-refcnt");
        Assert.That(r.ExitCode, Is.EqualTo(125), r.ToString());
        Assert.That(r.Err, Does.Contain("no patch 'pte-refcnt' in the posted series (did you mean pte-refcount?)"));
    }

    [Test]
    public void Where_takes_the_size_helpers()
    {
        var r = _clone.Kmm("check", "Scenarios/ptes.csx", "--patches", "none", "--where", "Recorded[\"VmPTE kB\"] * 1024 > 1.MiB()");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
    }

    [Test]
    public void Check_and_bisect_fixed_look_for_what_makes_it_go_away()
    {
        const string where = "Recorded[\"free_ptes\"] == false";
        var broken = _clone.Kmm("check", "Scenarios/ptes.csx", "--patches", "none", "--fixed", "--where", where);
        var @fixed = _clone.Kmm("check", "Scenarios/ptes.csx", "--patches", "pte-refcount", "--fixed", "--where", where);
        Assert.Multiple(() =>
        {
            Assert.That(broken.ExitCode, Is.EqualTo(0), broken.ToString());
            Assert.That(broken.Out, Does.StartWith("broken [patches: none]: no longer: "));
            Assert.That(@fixed.ExitCode, Is.EqualTo(1), @fixed.ToString());
            Assert.That(@fixed.Out, Does.StartWith("fixed [patches: pte-refcount]: no longer: "));
        });
        var bisect = _clone.Kmm("bisect", "Scenarios/ptes.csx", "--fixed", "--quick", "--where", where);
        Assert.That(bisect.ExitCode, Is.EqualTo(0), bisect.ToString());
        Assert.That(bisect.Out, Does.Contain("## first fixed prefix").And.Contain("broken: [none]").And.Contain("first fixed prefix: [1-5] pte-refcount"));
        var words = _clone.Kmm("bisect", "Scenarios/ptes.csx", "--quick", "--term-old", "absent", "--term-new", "present", "--where", "Recorded[\"free_ptes\"] == true");
        Assert.That(words.Out, Does.Contain("first present prefix: [1-5] pte-refcount"), words.ToString());
    }

    [Test]
    public void Show_of_a_scenario_that_throws_prints_the_line()
    {
        _clone.Write("Scenarios/throws.csx", "var p = Spawn(\"a\");\np.Munmap(0x1001, 4096);\n");
        var r = _clone.Kmm("show", "Scenarios/throws.csx");
        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrLines, Does.Contain("    2 | p.Munmap(0x1001, 4096);"));
    }

    [Test]
    public void Run_patches_runs_a_subset_and_writes_no_snapshot()
    {
        var r = _clone.Kmm("run", "Scenarios/ptes.csx", "--patches", "pte-refcount", "--patches", "none", "--patches", "kaiser-nr-overhead");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Contain("Scenarios/ptes.csx [patches: pte-refcount]: 1 checkpoint, 0 findings\n")
            .And.Contain("Scenarios/ptes.csx [patches: none]: 1 checkpoint, 0 findings\n")
            .And.Contain("3 combinations of 32: not verified, no snapshot written"));
        Assert.That(Directory.Exists(_clone.SnapshotsDir), Is.False);
        Assert.That(_clone.Kmm("run", "--patches", "pte-refcnt").ErrLines[0], Does.Contain("did you mean pte-refcount?"));
    }
}

[NonParallelizable]
public class ResultTableWidthTests
{
    [Test]
    public void At_80_columns_no_path_is_broken()
    {
        using var clone = new KmmClone();
        const string path = "Scenarios/restore-large-pages/undo-restores-large-pages-after-churn.csx";
        clone.Write(path, "Spawn(\"a\");\n");
        var r = clone.Invoke(new Dictionary<string, string> { ["COLUMNS"] = "80" }, "run", path);
        var lines = r.Out.Split('\n');
        Assert.Multiple(() =>
        {
            Assert.That(lines, Does.Contain(path), r.ToString());
            Assert.That(lines.Where(l => l != path).Max(l => l.Length), Is.LessThanOrEqualTo(80), r.ToString());
        });
        var wide = clone.Invoke(new Dictionary<string, string> { ["COLUMNS"] = "200" }, "run", path);
        Assert.That(wide.Out, Does.Contain("│ " + path), "a wide terminal keeps the table");
    }
}
