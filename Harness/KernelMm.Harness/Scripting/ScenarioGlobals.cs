using System.ComponentModel;
using Bogus;
using KernelMm.Harness.State;
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

    /// <summary>
    /// Captures the state now as a named checkpoint of the snapshot, with the values recorded
    /// since the previous one.
    /// </summary>
    /// <param name="name">Its name; a repeated one gets " #2", " #3".</param>
    /// <param name="sections">What it prints (default: the scenario's, <see cref="SnapshotSections"/>); recorded values and warnings always.</param>
    /// <param name="range">(start, length): the page-table dumps show only these addresses (default: the scenario's, else all).</param>
    public void Checkpoint(string name, Section? sections = null, (ulong Start, long Length)? range = null)
    {
        _run.Meter.Op("checkpoint");
        ArgumentNullException.ThrowIfNull(name);
        var d = _run.DefaultCapture;
        _run.Checkpoint(name, new CaptureOptions(sections ?? d.Sections, range is { } r ? AddressRange.Of(r.Start, r.Length) : d.Range));
    }

    /// <summary>The sections (and page-table range) of every checkpoint that does not say, and of the end state.</summary>
    public void SnapshotSections(Section sections, (ulong Start, long Length)? range = null)
    {
        _run.Meter.Op("snapshot sections");
        _run.DefaultCapture = new CaptureOptions(sections, range is { } r ? AddressRange.Of(r.Start, r.Length) : null);
    }

    /// <summary>Keeps a value for the next checkpoint (the one that captures it), under its <c>recorded</c> section; with no checkpoint after it, the end state's.</summary>
    public void Record(string key, object? value)
    {
        _run.Meter.Op();
        ArgumentNullException.ThrowIfNull(key);
        _run.Record(key, value);
    }

    /// <summary>
    /// A Bogus <see cref="Randomizer"/>, seeded by default from a stable hash of the scenario's
    /// name (its path under Scenarios/ without .csx; SHA-256, first four bytes), so every
    /// combination and every machine sees the same numbers; <see cref="Seed"/> sets the seed instead.
    /// </summary>
    public Randomizer Random { get; private set; }

    /// <summary>A Bogus <see cref="Bogus.Faker"/> with its own random source, seeded like <see cref="Random"/> (created at first use).</summary>
    public Faker Faker => _faker ??= new Faker("en") { Random = new Randomizer(unchecked(_run.Seed * 31 + 7)) };

    /// <summary>
    /// Seeds <see cref="Random"/> and <see cref="Faker"/> with <paramref name="seed"/>, so a
    /// workload stays the same when the scenario is renamed or copied. Call it before drawing
    /// numbers: both sources start over from the new seed.
    /// </summary>
    public void Seed(int seed)
    {
        _run.Meter.Op();
        _run.Seed = seed;
        Random = new Randomizer(seed);
        _faker = null;
    }

    /// <summary>Which patches this combination applies.</summary>
    public AppliedPatches Patches { get; }

    /// <summary>Inserted by the scenario compiler at the top of every loop body and function: checks the clock and the stack.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void __kmm_tick() => _run.Meter.Tick();

    /// <summary>Inserted by the scenario compiler before each statement: the line the script reached, for a report of where a run is stuck.</summary>
    [EditorBrowsable(EditorBrowsableState.Never)]
    public void __kmm_at(int line) => _run.Meter.At(line);
}
