namespace KernelMm.Harness.Snapshots;

/// <summary>
/// How long a snapshot file is, against how long it would be with every outcome printed
/// whole, each checkpoint with each of its sections (the layout before shared parts and
/// references: the header, then per outcome a blank line, its heading and its whole state).
/// Both come from the same file, so the ratio measures the layout alone, on the same states.
/// </summary>
/// <param name="Lines">The file's lines.</param>
/// <param name="WholeLines">The lines of the same outcomes printed whole.</param>
public readonly record struct SnapshotSize(int Lines, int WholeLines)
{
    public static SnapshotSize Of(string text)
    {
        var file = SnapshotFile.Parse(text);
        var lines = text.Split('\n');
        int count = text.EndsWith('\n') ? lines.Length - 1 : lines.Length;
        int header = lines.TakeWhile(l => l.Length > 0 && !l.StartsWith("## ", StringComparison.Ordinal)).Count();
        int whole = header + file.Outcomes.Sum(o => 2 + o.State.Count(c => c == '\n'));
        return new SnapshotSize(count, whole);
    }

    public static SnapshotSize operator +(SnapshotSize a, SnapshotSize b) => new(a.Lines + b.Lines, a.WholeLines + b.WholeLines);

    /// <summary>How many times shorter than printing every outcome whole.</summary>
    public double Ratio => Lines == 0 ? 1 : (double)WholeLines / Lines;
}
