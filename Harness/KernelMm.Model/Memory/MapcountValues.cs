namespace KernelMm.Model.Memory;

/// <summary>
/// The overloaded values of <c>page-&gt;_mapcount</c>, kept together as Andrew Morton asked in
/// the review of "mm: uncharge kmem pages from generic free_page path". A mapped page has
/// _mapcount = mappings - 1; an unmapped page -1; the others mark a page type.
/// </summary>
public static class MapcountValues
{
    /// <summary>An unmapped page with no type.</summary>
    public const int Unmapped = -1;
    /// <summary>PAGE_BUDDY_MAPCOUNT_VALUE: a free page at the head of a buddy block.</summary>
    public const int PAGE_BUDDY_MAPCOUNT_VALUE = -128;
    /// <summary>PAGE_BALLOON_MAPCOUNT_VALUE: a page owned by a balloon driver.</summary>
    public const int PAGE_BALLOON_MAPCOUNT_VALUE = -256;
    /// <summary>PAGE_KMEM_MAPCOUNT_VALUE: a kmem-charged page (kmem-uncharge-free, 2015).</summary>
    public const int PAGE_KMEM_MAPCOUNT_VALUE = -512;

    /// <summary>PAGE_KMEMCG_MAPCOUNT_VALUE: the merged name of the same mark (v4.7, 4949148ad433), a page charged to kmemcg.</summary>
    public const int PAGE_KMEMCG_MAPCOUNT_VALUE = PAGE_KMEM_MAPCOUNT_VALUE;

    /// <summary>All type values, for checks that they stay distinct.</summary>
    public static readonly int[] TypeValues = [PAGE_BUDDY_MAPCOUNT_VALUE, PAGE_BALLOON_MAPCOUNT_VALUE, PAGE_KMEM_MAPCOUNT_VALUE];
}
