namespace KernelMm.Harness.Suite;

/// <summary>What became of a scenario in a run.</summary>
public enum ScenarioStatus
{
    /// <summary>Its snapshot matched.</summary>
    Verified,

    /// <summary>Its snapshot differs from the verified one.</summary>
    Changed,

    /// <summary>It has no verified snapshot yet.</summary>
    New,

    /// <summary>Mode <c>always</c> wrote its verified snapshot.</summary>
    Updated,

    /// <summary>A script outside Scenarios/: run and summarised, nothing verified or written.</summary>
    Ran,

    /// <summary>It did not compile.</summary>
    CompileError,

    /// <summary>A combination threw.</summary>
    Threw,

    /// <summary>A combination hit a limit.</summary>
    Stopped,
}
