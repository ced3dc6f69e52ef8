namespace KernelMm.Model.Mm;

/// <summary>
/// Who zaps a range: what the kernel's callers say through struct zap_details (and which
/// path reaches unmap_page_range), so a seam at the end of zap_pte_range can tell a
/// MADV_DONTNEED zap from an unmap.
/// </summary>
public enum ZapCaller
{
    /// <summary>munmap, or a MAP_FIXED mmap over a mapping (unmap_region).</summary>
    Munmap,
    /// <summary>exit_mmap.</summary>
    ExitMmap,
    /// <summary>madvise(MADV_DONTNEED): madvise_dontneed_single_vma, one VMA's part of the range at a time.</summary>
    MadviseDontneed,
}
