namespace KernelMm.Model.Paging;

/// <summary>
/// Where an entry lives: a table frame and an index (the kernel's <c>pte_t *</c>), plus the
/// level lookup_address found it at. <see cref="None"/> is the NULL of lookup_address.
/// </summary>
public readonly record struct EntryRef(long TablePfn, int Index, PageLevel Level)
{
    public static EntryRef None => new(-1, -1, PageLevel.PG_LEVEL_NONE);

    public bool IsNull => TablePfn < 0;
}
