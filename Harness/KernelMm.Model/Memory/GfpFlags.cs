namespace KernelMm.Model.Memory;

/// <summary>The gfp_t bits the model acts on (include/linux/gfp_types.h).</summary>
[Flags]
public enum GfpFlags
{
    None = 0,
    /// <summary>__GFP_DMA: only ZONE_DMA.</summary>
    __GFP_DMA = 1 << 0,
    /// <summary>__GFP_DMA32: ZONE_DMA32 and below.</summary>
    __GFP_DMA32 = 1 << 1,
    /// <summary>__GFP_ZERO: the page is cleared (the model keeps no data; table pages are).</summary>
    __GFP_ZERO = 1 << 2,
    /// <summary>__GFP_ACCOUNT: charge the page to the current task's memory cgroup.</summary>
    __GFP_ACCOUNT = 1 << 3,
    GFP_KERNEL = 1 << 4,
    GFP_KERNEL_ACCOUNT = GFP_KERNEL | __GFP_ACCOUNT,
    /// <summary>GFP_PGTABLE_KERNEL = GFP_KERNEL | __GFP_ZERO.</summary>
    GFP_PGTABLE_KERNEL = GFP_KERNEL | __GFP_ZERO,
    /// <summary>GFP_PGTABLE_USER = GFP_PGTABLE_KERNEL | __GFP_ACCOUNT.</summary>
    GFP_PGTABLE_USER = GFP_PGTABLE_KERNEL | __GFP_ACCOUNT,
}
