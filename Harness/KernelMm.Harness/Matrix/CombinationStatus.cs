namespace KernelMm.Harness.Matrix;

/// <summary>How one combination's run ended.</summary>
public enum CombinationStatus
{
    /// <summary>The script ran to its end; its state was captured.</summary>
    Completed,

    /// <summary>The script (or the model under it) threw.</summary>
    Threw,

    /// <summary>A limit stopped it (operation budget, wall clock, stack depth).</summary>
    Stopped,

    /// <summary>Not run, because another combination of the scenario hit a limit.</summary>
    NotStarted,
}
