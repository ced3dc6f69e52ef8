using System.ComponentModel;
using Bogus;
using KernelMm.Model.Boot;

namespace KernelMm.Harness.Scripting;

/// <summary>
/// What a scenario script sees (DESIGN.md's scenario API): <c>Boot</c>, <c>Kernel</c>,
/// <c>Spawn</c>, <c>Checkpoint</c>, <c>Record</c>, <c>Random</c>, <c>Faker</c>, <c>Patches</c>.
/// Every call is counted against the run's budget.
/// </summary>
public sealed class ScenarioGlobals
{
    private readonly ScenarioRun _run;
    private Faker? _faker;

    public ScenarioGlobals(ScenarioRun run)
    {
        _run = run;
        Kernel = new KernelFacade(run);
        Patches = new AppliedPatches(run.Combination);
        Random = new Randomizer(run.Seed);
    }

    /// <summary>Boots the machine anew (optional: the default machine boots at first use of <see cref="Kernel"/> or <see cref="Spawn"/>).</summary>
    public void Boot(long memory = 4L << 30, int cpus = 2, bool gbpages = true, bool pti = true, bool protectPageTables = false)
    {
        _run.Meter.Op("boot");
        _run.Boot(new BootOptions(memory, cpus, gbpages, pti, protectPageTables));
    }

    /// <summary>The booted kernel.</summary>
    public KernelFacade Kernel { get; }

    /// <summary>A new process (fork and exec of a fresh program), optionally in a memory cgroup.</summary>
    public ScriptProcess Spawn(string name, ScriptMemcg? memcg = null)
    {
        _run.Meter.Op("spawn");
        memcg?.CheckSameBoot("cgroup.procs");
        var p = _run.Kernel.Spawn(name, memcg?.Model);
        _run.Trace?.Spawned(p);
        if (memcg is not null)
            _run.KernelCall($"{p.Pid}: Spawn into memory cgroup {memcg.Name}: the host process is in no such cgroup");
        return new ScriptProcess(_run, p);
    }

    /// <summary>Captures the state now as a named section of the snapshot.</summary>
    public void Checkpoint(string name)
    {
        _run.Meter.Op("checkpoint");
        _run.Checkpoint(name);
    }

    /// <summary>Keeps a value in the snapshot, under the next checkpoint's <c>recorded</c> section.</summary>
    public void Record(string key, object? value)
    {
        _run.Meter.Op();
        _run.Record(key, value);
    }

    /// <summary>Seeded from a stable hash of the scenario's name: every combination sees the same numbers.</summary>
    public Randomizer Random { get; }

    /// <summary>A Bogus <see cref="Bogus.Faker"/> with its own random source, seeded like <see cref="Random"/> (created at first use).</summary>
    public Faker Faker => _faker ??= new Faker("en") { Random = new Randomizer(unchecked(_run.Seed * 31 + 7)) };

    /// <summary>Which patches this combination applies.</summary>
    public AppliedPatches Patches { get; }

    /// <summary>Inserted by the scenario compiler at the top of every loop body and function: checks the clock and the stack.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void __kmm_tick() => _run.Meter.Tick();

    /// <summary>Inserted by the scenario compiler before each statement: the line the script reached, for a report of where a run is stuck.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void __kmm_at(int line) => _run.Meter.At(line);
}
