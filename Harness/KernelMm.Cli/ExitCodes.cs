namespace KernelMm.Cli;

/// <summary>The exit codes of DESIGN.md.</summary>
internal static class ExitCodes
{
    /// <summary>Everything verified.</summary>
    public const int Ok = 0;

    /// <summary>Snapshot mismatches, new snapshots, scenarios that threw or ran away, orphans in CI.</summary>
    public const int Findings = 1;

    /// <summary>A bad command line, a bad path or patch id, or a scenario that does not compile.</summary>
    public const int Usage = 2;
}
