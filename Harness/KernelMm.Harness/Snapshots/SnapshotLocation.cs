using KernelMm.Harness.State;

namespace KernelMm.Harness.Snapshots;

/// <summary>
/// Where a line of a snapshot (or of one combination's state) is: its part (the shared part,
/// or outcome N and its formula), its checkpoint and its section or process. A diff prints it
/// after each hunk header, as git prints a function's name, so a reviewer knows which
/// outcome, checkpoint and section a hunk changes without scrolling back.
/// </summary>
public static class SnapshotLocation
{
    public static string? Describe(IReadOnlyList<string> lines, int index)
    {
        string? part = null, checkpoint = null, section = null;
        for (int i = Math.Min(index, lines.Count - 1); i >= 0 && part is null; i--)
        {
            string l = lines[i];
            if (l.StartsWith("## ", StringComparison.Ordinal))
                part = l == SnapshotWriter.SharedHeader ? "shared by all outcomes" : l[3..];
            else if (checkpoint is null && l.StartsWith(StateLayout.CheckpointHeader, StringComparison.Ordinal))
                checkpoint = $"checkpoint '{l[StateLayout.CheckpointHeader.Length..]}'";
            else if (checkpoint is null && section is null && BlockHeader.Parse(l) is { } h)
                section = h.Key;
        }
        var parts = new[] { part, checkpoint, section }.Where(p => p is not null).ToList();
        return parts.Count == 0 ? null : string.Join(" / ", parts);
    }
}
