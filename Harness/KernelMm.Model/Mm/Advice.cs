namespace KernelMm.Model.Mm;

/// <summary>The madvise advice the model implements, with their MADV_* values.</summary>
public enum Advice
{
    /// <summary>MADV_DONTNEED: zap the range now; the page tables stay.</summary>
    DontNeed = 4,
    /// <summary>MADV_FREE: clean anonymous pages may be discarded by reclaim unless written again.</summary>
    Free = 8,
}
