namespace KernelMm.Harness.Snapshots;

/// <summary>How a scenario's state compared with its verified snapshot.</summary>
public enum SnapshotStatus
{
    /// <summary>Identical to X.verified.txt.</summary>
    Verified,

    /// <summary>Different from X.verified.txt (a received file was written unless the mode is <c>no</c>). Fails.</summary>
    Changed,

    /// <summary>No X.verified.txt yet (a received file was written unless the mode is <c>no</c>). Fails.</summary>
    New,

    /// <summary>Mode <c>always</c>: X.verified.txt was (over)written with the new state. Passes.</summary>
    Updated,
}
