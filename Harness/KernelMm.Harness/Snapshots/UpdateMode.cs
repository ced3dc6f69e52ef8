namespace KernelMm.Harness.Snapshots;

/// <summary>What a run may write when a snapshot does not match (KMM_UPDATE; <c>auto</c> resolves to one of these).</summary>
public enum UpdateMode
{
    /// <summary>Write X.received.txt beside the verified file, for review and <c>kmm accept</c>.</summary>
    New,

    /// <summary>Overwrite X.verified.txt at once (after a reviewed model change, say).</summary>
    Always,

    /// <summary>Write nothing: compare and report only (the CI default).</summary>
    No,
}
