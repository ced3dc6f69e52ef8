using KernelMm.Model;
using KernelMm.Model.Mm;
using KernelMm.Patches;

namespace KernelMm.Harness.Oracle;

/// <summary>
/// The record of a scenario's run in the model that the oracle replays: each process call
/// with the model's answer, and at each checkpoint the model's figures of each live
/// process. A spawned process's deltas are from its state right after Spawn (execve's
/// stack); a forked one's from the state of a fork of a freshly spawned process, on both
/// sides, since the host's agents are forks of a .NET process whose own mappings a fork
/// copies too (see <see cref="HostSession"/>).
/// </summary>
public sealed class ReplayTrace
{
    private readonly List<ReplayStep> _steps = [];
    private readonly SortedDictionary<int, (Process Process, bool Forked, Figures Baseline)> _live = new();
    private readonly Combination _combination;
    private Figures? _forkBaseline;

    public ReplayTrace(Combination combination) => _combination = combination;

    public IReadOnlyList<ReplayStep> Steps => _steps;

    /// <summary>The calls that were not replayed, with why.</summary>
    public IEnumerable<ReplayCall> NotReplayed =>
        _steps.OfType<CallStep>().Select(s => s.Call).Where(c => c.Kind == ReplayKind.NotReplayed);

    internal void Spawned(Process p)
    {
        _steps.Add(new CallStep(new ReplayCall(ReplayKind.Spawn, p.Pid, $"Spawn(\"{p.Comm}\")") { Result = p.Pid }));
        _live[p.Pid] = (p, false, ModelFigures.Read(p));
    }

    internal void Forked(Process parent, Process child, Kernel kernel)
    {
        _forkBaseline ??= ForkOfFreshProcess(kernel);
        _steps.Add(new CallStep(new ReplayCall(ReplayKind.Fork, parent.Pid, $"{parent.Pid}: Fork(\"{child.Comm}\")") { Result = child.Pid }));
        _live[child.Pid] = (child, true, _forkBaseline);
    }

    internal void Exited(Process p)
    {
        _steps.Add(new CallStep(new ReplayCall(ReplayKind.Exit, p.Pid, $"{p.Pid}: Exit()")));
        _live.Remove(p.Pid);
    }

    internal void Call(ReplayCall call) => _steps.Add(new CallStep(call));

    internal void NotReplayedCall(string text) => _steps.Add(new CallStep(new ReplayCall(ReplayKind.NotReplayed, 0, text)));

    /// <summary>A later Boot() ends every process of the kernel it replaces.</summary>
    internal void Rebooted()
    {
        foreach (var pid in _live.Keys.ToList())
            _steps.Add(new CallStep(new ReplayCall(ReplayKind.Exit, pid, $"{pid}: ended by Boot()")));
        _live.Clear();
        NotReplayedCall("Boot(...): the host is not rebooted; the processes of the replaced kernel are ended");
    }

    internal void Checkpoint(string name)
    {
        var procs = _live.Values.Where(v => v.Process.Alive)
            .Select(v => new ProcessFigures(v.Process.Pid, v.Process.Comm, v.Forked, ModelFigures.Read(v.Process), v.Baseline))
            .ToList();
        _steps.Add(new CheckpointStep(name, procs));
    }

    /// <summary>Whether the last step is a checkpoint (the script ended right on one).</summary>
    internal bool EndsOnCheckpoint => _steps.Count > 0 && _steps[^1] is CheckpointStep;

    // The model's figures of a child forked from a freshly spawned process: booted apart,
    // with the same machine and patches, so the scenario's own kernel is not disturbed.
    private Figures ForkOfFreshProcess(Kernel kernel)
    {
        var side = _combination.Series.Boot(kernel.Options, _combination);
        var parent = side.Spawn("oracle-base", null);
        return ModelFigures.Read(parent.Fork("oracle-base"));
    }
}
