namespace KernelMm.Cli.Tests.BadInput;

/// <summary>
/// Calls the kernel would refuse get the kernel's answer, through <c>kmm</c>: ENOMEM from the
/// overcommit heuristic, the OOM killer, EINVAL for unaligned or negative sizes, ESRCH for a
/// task that is gone. Each is an exception naming the call and the errno at the .csx line
/// (exit code 1, nothing written), or, for the OOM killer, a state that says what was killed.
/// </summary>
[NonParallelizable]
public class ModelAnswerTests
{
    private const string AllCombinations = "[patches: none] (the same in all 32 combinations)";

    private KmmClone _clone = null!;

    [SetUp]
    public void SetUp() => _clone = new KmmClone();

    [TearDown]
    public void TearDown() => _clone.Dispose();

    [Test]
    public void Mapping_more_than_the_machine_has_is_ENOMEM_from_the_overcommit_heuristic()
    {
        _clone.Write("Scenarios/oom/overcommit.csx",
            "Boot(memory: 256.MiB());\nvar hog = Spawn(\"hog\");\nvar buf = hog.Mmap(1.GiB());\nhog.Touch(buf, 1.GiB(), Access.Write);\n");

        var r = _clone.Kmm("run", "Scenarios/oom/overcommit.csx");

        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrLines, Is.EqualTo(new[]
        {
            "Scenarios/oom/overcommit.csx:3: KernelErrnoException: mmap: -ENOMEM (1048576 kB is more than the overcommit policy (vm.overcommit_memory=0) allows) " + AllCombinations,
        }), r.ToString());
        Assert.That(Directory.Exists(_clone.SnapshotsDir), Is.False);
    }

    [Test]
    public void Touching_more_than_the_machine_has_wakes_the_OOM_killer_and_the_run_goes_on()
    {
        // Each mapping fits the overcommit heuristic; together they do not fit in RAM.
        _clone.Write("repro/oom.csx", """
            // Report: two tasks together touch more than the machine has.
            Boot(memory: 64.MiB());
            var hog = Spawn("hog");
            var other = Spawn("other");
            var a = hog.Mmap(24.MiB());
            var b = other.Mmap(16.MiB());
            hog.Touch(a, 24.MiB(), Access.Write);
            other.Touch(b, 16.MiB(), Access.Write);
            Record("hog alive", hog.Alive);
            Record("other alive", other.Alive);
            """);

        var run = _clone.Kmm("run", "repro/oom.csx");
        Assert.That(run.ExitCode, Is.EqualTo(0), "a reproducer outside Scenarios/ is run and summarised: the OOM kill is its outcome, not a failure\n" + run);
        Assert.That(run.Out, Does.Contain("ran (not verified)"));
        Assert.That(run.ErrLines, Is.Empty);

        var show = _clone.Kmm("show", "repro/oom.csx", "--patches", "all");
        Assert.That(show.ExitCode, Is.EqualTo(0), show.ToString());
        Assert.That(show.Out, Does.Contain("hog alive = false\nother alive = true\n"));
        Assert.That(show.Out, Does.Contain("oom-kill: Out of memory: Killed process 300 (hog) total-vm:24708kB, anon-rss:24580kB"));
        Assert.That(Directory.Exists(_clone.SnapshotsDir), Is.False, "a reproducer outside Scenarios/ never writes a snapshot");
    }

    [Test]
    public void A_task_the_OOM_killer_killed_answers_ESRCH()
    {
        _clone.Write("repro/killed.csx", """
            Boot(memory: 64.MiB());
            var hog = Spawn("hog");
            var a = hog.Mmap(34.MiB());
            hog.Touch(a, 34.MiB(), Access.Write);
            hog.Munmap(a, 34.MiB());
            """);

        var r = _clone.Kmm("show", "repro/killed.csx");

        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrLines[0], Is.EqualTo("repro/killed.csx:5: KernelErrnoException: munmap: -ESRCH (process 300 (hog) has exited) [patches: none]"), r.ToString());
    }

    // Line 3 of a script whose lines 1 and 2 spawn a task and map 1 MiB at `buf`.
    [TestCase("p.Mmap(-4096);", "mmap: -EINVAL (length -4096)")]
    [TestCase("p.Mmap(0);", "mmap: -EINVAL (length 0)")]
    [TestCase("p.Mmap(4096, at: 0x10000001UL);", "mmap: -EINVAL (MAP_FIXED address 0x10000001 is not page aligned)")]
    [TestCase("p.Munmap(buf + 1, 4096);", "munmap: -EINVAL (0x7ffff7eff001, 4096)")]
    [TestCase("p.Munmap(buf, -4096);", "munmap: -EINVAL (0x7ffff7eff000, -4096)")]
    [TestCase("p.Mprotect(buf + 100, 4096, Prot.Read);", "mprotect: -EINVAL (0x7ffff7eff064, 4096)")]
    [TestCase("p.Madvise(buf + 1, 4096, Advice.DontNeed);", "madvise: -EINVAL (0x7ffff7eff001, 4096, DontNeed)")]
    [TestCase("p.Touch(buf, -1, Access.Read);", "touch: -EINVAL (length -1, stride 4096)")]
    [TestCase("Kernel.Vmalloc(-1);", "vmalloc: -EINVAL (size -1)")]
    [TestCase("Kernel.SetMemory.ReadOnly(Kernel.DirectMapAddress(Kernel.AllocPages()), -1);", "set_memory_ro: -EINVAL (-1 pages)")]
    public void An_unaligned_or_negative_size_is_EINVAL_naming_the_call(string line, string expected)
    {
        _clone.Write("Scenarios/bad/einval.csx", $"var p = Spawn(\"w\");\nvar buf = p.Mmap(1.MiB());\n{line}\n");

        var r = _clone.Kmm("run", "Scenarios/bad/einval.csx");

        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrLines, Is.EqualTo(new[] { $"Scenarios/bad/einval.csx:3: KernelErrnoException: {expected} {AllCombinations}" }), r.ToString());
        Assert.That(Directory.Exists(_clone.SnapshotsDir), Is.False);
    }

    // Line 4 of a script that spawns a task, uses it (line 2: it works before Exit) and ends it (line 3).
    [TestCase("p.Mmap(4096);", "mmap: -ESRCH (process 300 (w) has exited)")]
    [TestCase("p.Touch(buf, 4096, Access.Read);", "touch: -ESRCH (process 300 (w) has exited)")]
    [TestCase("p.Munmap(buf, 4096);", "munmap: -ESRCH (process 300 (w) has exited)")]
    [TestCase("p.Fork(\"child\");", "fork: -ESRCH (process 300 (w) has exited)")]
    [TestCase("p.Exit();", "exit: -ESRCH (process 300 (w) has exited)")]
    [TestCase("Record(\"rss\", p.Status[\"VmRSS\"]);", "/proc/300/status: -ESRCH (process 300 (w) has exited)")]
    public void The_process_API_after_Exit_is_ESRCH(string line, string expected)
    {
        _clone.Write("Scenarios/bad/exited.csx", $"var p = Spawn(\"w\");\nvar buf = p.Mmap(1.MiB());\np.Exit();\n{line}\n");

        var r = _clone.Kmm("run", "Scenarios/bad/exited.csx");

        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrLines, Is.EqualTo(new[] { $"Scenarios/bad/exited.csx:4: KernelErrnoException: {expected} {AllCombinations}" }), r.ToString());
        Assert.That(Directory.Exists(_clone.SnapshotsDir), Is.False);
    }

    [Test]
    public void The_process_API_before_Exit_works_and_its_state_is_the_snapshot()
    {
        _clone.Write("repro/before-exit.csx", "var p = Spawn(\"w\");\nvar buf = p.Mmap(1.MiB());\np.Touch(buf, 1.MiB(), Access.Write);\nRecord(\"rss\", p.Status[\"VmRSS\"]);\np.Exit();\nRecord(\"alive\", p.Alive);\n");

        var r = _clone.Kmm("show", "repro/before-exit.csx");

        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.Contain("#### recorded\nrss = 1028\nalive = false\n"));
    }

    // cgroup.procs and rmdir answer as the kernel does: a busy cgroup cannot be removed, a removed one's files are gone, an exited task has no pid.
    [TestCase("var cg = Kernel.Memcg.Create(\"build\");\nvar w = Spawn(\"w\", cg);\ncg.Rmdir();\n", "rmdir: -EBUSY (memory cgroup build still has process 300 (w))")]
    [TestCase("var cg = Kernel.Memcg.Create(\"build\");\ncg.Rmdir();\ncg.Attach(Spawn(\"w\"));\n", "cgroup.procs: -ENODEV (memory cgroup build was removed)")]
    [TestCase("var cg = Kernel.Memcg.Create(\"build\");\nvar w = Spawn(\"w\"); w.Exit();\ncg.Attach(w);\n", "cgroup.procs: -ESRCH (process 300 (w) has exited)")]
    public void A_memory_cgroup_move_gets_the_kernels_errno(string script, string expected)
    {
        _clone.Write("Scenarios/bad/memcg.csx", script);

        var r = _clone.Kmm("run", "Scenarios/bad/memcg.csx");

        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrLines, Is.EqualTo(new[] { $"Scenarios/bad/memcg.csx:3: KernelErrnoException: {expected} {AllCombinations}" }), r.ToString());
    }

    // A handle from before Boot() names nothing in the new kernel; it used to change the dropped one without a word.
    [TestCase("var p = Spawn(\"old\");\nBoot(memory: 1.GiB());\np.Mmap(1.MiB());\n", "mmap: -ESRCH (process 300 (old) belongs to a kernel that a later Boot() replaced)")]
    [TestCase("var p = Spawn(\"old\");\nBoot(memory: 1.GiB());\nRecord(\"rss\", p.Status[\"VmRSS\"]);\n", "/proc/300/status: -ESRCH (process 300 (old) belongs to a kernel that a later Boot() replaced)")]
    [TestCase("var m = Kernel.LoadModule(64.KiB(), 16.KiB());\nBoot(memory: 1.GiB());\nm.Unload();\n", "delete_module: -ENOENT (the module belongs to a kernel that a later Boot() replaced)")]
    [TestCase("var cg = Kernel.Memcg.Create(\"jobs\");\nBoot(memory: 1.GiB());\nSpawn(\"w\", cg);\n", "cgroup.procs: -ENOENT (memory cgroup jobs belongs to a kernel that a later Boot() replaced)")]
    public void A_handle_from_before_Boot_is_refused(string script, string expected)
    {
        _clone.Write("Scenarios/bad/reboot.csx", script);

        var r = _clone.Kmm("run", "Scenarios/bad/reboot.csx");

        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrLines, Is.EqualTo(new[] { $"Scenarios/bad/reboot.csx:3: KernelErrnoException: {expected} {AllCombinations}" }), r.ToString());
    }
}
