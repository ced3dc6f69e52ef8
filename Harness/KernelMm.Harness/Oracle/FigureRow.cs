namespace KernelMm.Harness.Oracle;

/// <summary>How a compared figure came out.</summary>
public enum Verdict
{
    Agrees,
    Differs,
    /// <summary>Differs in a way a declared difference of era explains (see <see cref="EraDifferences"/>).</summary>
    Era,
}

/// <summary>One figure of one process at one checkpoint: the model's value, the host's, and the verdict.</summary>
public sealed record FigureRow(string Checkpoint, int Pid, string Comm, string Figure, string Model, string Host, Verdict Verdict, string? Note = null);
