namespace KernelMm.Harness.State;

/// <summary>
/// One section of a checkpoint (<c>#### vmstat</c>) or one process of its processes section
/// (<c>##### process 3 (worker)</c>): the unit a snapshot prints once, refers back to, or
/// prints as the lines that differ.
/// </summary>
/// <param name="Key">Its header without the hashes: <c>vmstat</c>, <c>kernel page tables</c>, <c>process 3 (worker)</c>.</param>
/// <param name="Lines">Its lines after the header.</param>
public sealed record StateUnit(string Key, IReadOnlyList<string> Lines)
{
    /// <summary>A process of the processes section (a sub-unit, <c>#####</c>); every other unit is a section (<c>####</c>).</summary>
    public bool IsProcess => IsProcessKey(Key);

    public string Header => (IsProcess ? "##### " : "#### ") + Key;

    public static bool IsProcessKey(string key) => key.StartsWith("process ", StringComparison.Ordinal) && key.EndsWith(')');

    public bool SameLines(StateUnit other) => Lines.SequenceEqual(other.Lines, StringComparer.Ordinal);
}
