namespace KernelMm.Harness.Oracle;

/// <summary>One step of a recorded scenario: a call to replay, or a checkpoint to compare at.</summary>
public abstract record ReplayStep;

/// <summary>A process call to make on the host.</summary>
public sealed record CallStep(ReplayCall Call) : ReplayStep;

/// <summary>A checkpoint: the model's figures of every live process at that point.</summary>
public sealed record CheckpointStep(string Name, IReadOnlyList<ProcessFigures> Processes) : ReplayStep;

/// <summary>One process's figures at a checkpoint, and the baseline its deltas are taken from.</summary>
public sealed record ProcessFigures(int Pid, string Comm, bool Forked, Figures Figures, Figures Baseline);
