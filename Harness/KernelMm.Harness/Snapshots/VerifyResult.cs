namespace KernelMm.Harness.Snapshots;

/// <summary>The result of verifying one scenario's snapshot.</summary>
/// <param name="Status">How it compared.</param>
/// <param name="Verified">Path of X.verified.txt.</param>
/// <param name="Received">Path of X.received.txt, if one was written (or is still there).</param>
/// <param name="Diff">The unified diff from verified to received when it changed, else null.</param>
public sealed record VerifyResult(SnapshotStatus Status, string Verified, string? Received, string? Diff)
{
    public bool Passed => Status is SnapshotStatus.Verified or SnapshotStatus.Updated;

    /// <summary>
    /// When the verified file did not verify and breaks the text rules (a BOM, CRLF, no final
    /// newline, bytes that are not UTF-8: an editor, a bad merge or a truncated write), one
    /// message naming the file and what is wrong; else null.
    /// </summary>
    public string? BrokenVerified { get; init; }
}
