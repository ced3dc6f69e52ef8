namespace KernelMm.Model.Memory;

/// <summary>
/// The <c>page-&gt;flags</c> bits the model keeps (include/linux/page-flags.h names). Page
/// types that the kernel keeps in <c>_mapcount</c> (buddy, balloon, and the kmem mark of
/// the 2015 series) live there too; PG_table is kept as a flag so that a page table can
/// also carry a <c>_mapcount</c> mark.
/// </summary>
[Flags]
public enum PageFlags : ushort
{
    None = 0,
    PG_locked = 1 << 0,
    PG_referenced = 1 << 1,
    PG_uptodate = 1 << 2,
    PG_dirty = 1 << 3,
    PG_lru = 1 << 4,
    PG_active = 1 << 5,
    PG_slab = 1 << 6,
    PG_reserved = 1 << 7,
    PG_private = 1 << 8,
    PG_writeback = 1 << 9,
    PG_head = 1 << 10,
    PG_swapbacked = 1 << 11,
    PG_mlocked = 1 << 12,
    /// <summary>PageAnon: the kernel keeps it in the low bit of page-&gt;mapping.</summary>
    PG_anon = 1 << 13,
    /// <summary>PageTable: a page_type bit since 4.18, kept in the _mapcount word (see <see cref="DumpPage.MapcountWord"/>), so not a page flag the free check tests.</summary>
    PG_table = 1 << 14,
    PG_hwpoison = 1 << 15,

    /// <summary>
    /// PAGE_FLAGS_CHECK_AT_FREE of include/linux/page-flags.h (5.x; the subset the model
    /// keeps): any of these on a page being freed is "Bad page state". A leftover PageTable
    /// is not among them: it is in the _mapcount word, so it reads "nonzero mapcount".
    /// </summary>
    CheckAtFree = PG_lru | PG_locked | PG_private | PG_writeback | PG_reserved | PG_slab | PG_active | PG_mlocked,
}
