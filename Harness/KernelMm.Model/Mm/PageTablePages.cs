using KernelMm.Model.Memory;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Model.Mm;

/// <summary>
/// Where page-table pages come from and go back to (pte_alloc_one, pmd_alloc_one,
/// pud_alloc_one and their frees), with the PKS page tables of the boot option
/// <c>protectPageTables</c>: each table page's direct-map entry gets the page-table
/// protection key when allocated (set_memory_pks) and loses it when freed, and alloc_table
/// / free_table charge and uncharge memcg kmem themselves. The series disables PKS tables
/// under PTI (order-1 pgds), so the option only acts with pti off.
/// </summary>
public sealed class PageTablePages(Kernel k)
{
    /// <summary>PKS_KEY_PG_TABLES: the protection key of page tables.</summary>
    public const int PKS_KEY_PG_TABLES = 1;

    /// <summary>_PAGE_PKEY(key): the key in bits 59-62.</summary>
    public static ulong _PAGE_PKEY(int key) => ((ulong)key & 0xf) << 59;

    private readonly HashSet<long> _protected = [];

    /// <summary>PKS page tables are on: the boot option, without PTI.</summary>
    public bool Protected => k.Options.ProtectPageTables && !k.Options.Pti;

    /// <summary>Seam: a page source for table pages (grouped-pages' cache). The buddy allocator by default.</summary>
    public Func<GfpFlags, long>? GetPage { get; set; }

    /// <summary>Seam: where a freed table page goes (grouped-pages' cache). The buddy allocator by default.</summary>
    public Action<long>? PutPage { get; set; }

    /// <summary>Seam: whether a page the source hands out is already protected (grouped pages pre-apply the key per 2M).</summary>
    public Func<long, bool>? IsPreProtected { get; set; }

    /// <summary>Table pages that carry the page-table key now.</summary>
    public int ProtectedCount => _protected.Count;

    /// <summary>
    /// A zeroed table page for <paramref name="owner"/>, charged to <paramref name="memcg"/>
    /// when the gfp asks for accounting; -1 when memory is out.
    /// </summary>
    public long Alloc(GfpFlags gfp, Memcg? memcg, PageOwnerKind owner, int ownerId)
    {
        long pfn;
        if (GetPage is { } get)
        {
            pfn = get(gfp);
            if (pfn < 0)
                return -1;
            ref var p = ref k.Frames[pfn];
            p.OwnerKind = owner;
            p.Link1 = ownerId;
        }
        else
        {
            pfn = k.Buddy.AllocPages(0, gfp, owner, ownerId);
            if (pfn < 0)
                return -1;
        }
        // An accounted table is an alloc_kmem_pages page, charged or not (no cgroup); a PKS
        // table is alloc_table's, which charges it itself and never calls alloc_kmem_pages.
        if ((gfp & GfpFlags.__GFP_ACCOUNT) != 0)
        {
            if (!Protected)
                k.Memcgs.CommitKmemCharge(pfn, 0, memcg);
            else if (memcg is not null)
                k.Memcgs.ChargeKmemPages(pfn, 0, memcg);
        }
        if (Protected)
        {
            if (!(IsPreProtected?.Invoke(pfn) ?? false))
            {
                try
                {
                    SetMemoryPks(pfn, 1, PKS_KEY_PG_TABLES);
                }
                catch (KernelErrnoException)
                {
                    // alloc_table: set_memory_pks could not split the direct map (no page
                    // for the table): the allocation fails and the page goes back.
                    k.Memcgs.UnchargeKmem(pfn, 0);
                    k.Buddy.FreePages(pfn, 0);
                    return -1;
                }
            }
            _protected.Add(pfn);
        }
        return pfn;
    }

    /// <summary>
    /// A table page whose table is gone: the key is reset (unless the cache keeps it
    /// protected) and the page goes back, through release_pages when <paramref name="batched"/>.
    /// </summary>
    public void Free(long pfn, bool batched)
    {
        if (_protected.Remove(pfn))
        {
            // free_table uncharges for itself (PKS tables), whatever the kernel's free path does.
            k.Memcgs.UnchargeKmem(pfn, 0);
            // The cache takes back only what it handed out (PKS tables); it keeps them keyed.
            if (PutPage is { } put)
            {
                put(pfn);
                return;
            }
            SetMemoryPks(pfn, 1, 0);
        }
        if (batched)
            k.ReleasePage(pfn);
        else
            k.Buddy.FreePages(pfn, 0);
    }

    /// <summary>set_memory_pks: set the key bits of the pages' direct-map entries (and clear the other key bits).</summary>
    public void SetMemoryPks(long pfn, long count, int key) =>
        k.SetMemory.Change("set_memory_pks", k.DirectMapAddress(pfn), count, _PAGE_PKEY(key), _PAGE_PKEY_MASK & ~_PAGE_PKEY(key));
}
