namespace KernelMm.Harness.Oracle;

/// <summary>One reading of a host task: status lines (kB), minor faults, and the window's VMAs (in model addresses) and pages.</summary>
internal sealed record HostReading(
    IReadOnlyDictionary<string, long> Status,
    long MinFlt,
    IReadOnlyList<(ulong Start, ulong End, string Perms)> Vmas,
    long Present,
    long? Zero)
{
    public bool SameAs(HostReading o) =>
        MinFlt == o.MinFlt && Present == o.Present && Zero == o.Zero && Vmas.SequenceEqual(o.Vmas)
        && Status.Count == o.Status.Count && Status.All(kv => o.Status.TryGetValue(kv.Key, out long v) && v == kv.Value);
}
