namespace KernelMm.Harness.Oracle;

/// <summary>
/// A process's figures as the oracle compares them, from the model or from the host: the
/// status lines (kB), minor faults, the VMAs of the replayed window (model addresses) and
/// its present and zero-page pages.
/// </summary>
public sealed record Figures(
    IReadOnlyDictionary<string, long> Status,
    long? MinFlt,
    IReadOnlyList<(ulong Start, ulong End, string Perms)> Vmas,
    long Present,
    long? Zero)
{
    /// <summary>The /proc/PID/status lines compared, as deltas from the process's start.</summary>
    public static readonly string[] StatusNames = ["VmSize", "VmLck", "VmRSS", "RssAnon", "VmData", "VmPTE"];

    internal static Figures Of(HostReading r) => new(r.Status, r.MinFlt, r.Vmas, r.Present, r.Zero);
}
