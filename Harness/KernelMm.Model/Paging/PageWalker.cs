using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Paging;

/// <summary>
/// Walks 4-level tables from a PGD frame: <c>lookup_address_in_pgd</c> of
/// arch/x86/mm/pat/set_memory.c, and the hardware walk that a TLB fill does.
/// </summary>
public sealed class PageWalker(PageTableStore tables)
{
    public PageTableStore Tables { get; } = tables;

    public ulong Read(EntryRef e) => Tables[e.TablePfn][e.Index];

    public void Write(EntryRef e, ulong value)
    {
        var table = Tables[e.TablePfn];
        table[e.Index] = value;
    }

    /// <summary>
    /// lookup_address_in_pgd: the entry that maps <paramref name="va"/> and its level. It
    /// stops at a none entry (returning it, except at the PGD where it returns NULL as the
    /// kernel does for an empty p4d/pgd), at a large leaf, or at the PTE.
    /// </summary>
    public EntryRef LookupAddress(long pgdPfn, ulong va)
    {
        var pgd = Tables[pgdPfn];
        int i = pgd_index(va);
        if (pgd_none(pgd[i]))
            return EntryRef.None;

        long pudPfn = pte_pfn(pgd[i]);
        int pi = pud_index(va);
        ulong pud = Tables[pudPfn][pi];
        if (pud_large(pud) || !pud_present(pud))
            return new EntryRef(pudPfn, pi, PageLevel.PG_LEVEL_1G);

        long pmdPfn = pud_pfn(pud);
        int mi = pmd_index(va);
        ulong pmd = Tables[pmdPfn][mi];
        if (pmd_large(pmd) || !pmd_present(pmd))
            return new EntryRef(pmdPfn, mi, PageLevel.PG_LEVEL_2M);

        long ptePfn = pmd_pfn(pmd);
        return new EntryRef(ptePfn, pte_index(va), PageLevel.PG_LEVEL_4K);
    }

    /// <summary>
    /// The hardware walk: the leaf translation of <paramref name="va"/>, with the effective
    /// permissions (RW and USER ANDed down the levels, NX ORed), or null if not present.
    /// </summary>
    public Translation? Translate(long pgdPfn, ulong va) =>
        Walk(pgdPfn, va, out var t, out _) ? t : null;

    /// <summary>
    /// The hardware walk of <see cref="Translate"/>, also giving the leaf entry's slot (where
    /// a fill sets ACCESSED and DIRTY). False, with <paramref name="t"/> and
    /// <paramref name="leaf"/> undefined, when a level is not present.
    /// </summary>
    public bool Walk(long pgdPfn, ulong va, out Translation t, out EntryRef leaf) => Walk(pgdPfn, va, null, out t, out leaf);

    /// <summary>
    /// <see cref="Walk(long, ulong, out Translation, out EntryRef)"/> through an mm's
    /// <see cref="PteTableCache"/>: a hit reads the PTE directly; a walk that reaches a PTE
    /// table leaves it in the cache.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public bool Walk(long pgdPfn, ulong va, PteTableCache? cache, out Translation t, out EntryRef leaf)
    {
        if (cache is not null && cache.Covers(Tables, pgdPfn, va))
        {
            int pi = (int)((va >> PAGE_SHIFT) & 511);
            ulong pte = cache.Table[pi];
            if ((pte & _PAGE_PRESENT) == 0)
            {
                t = default;
                leaf = EntryRef.None;
                return false;
            }
            leaf = new EntryRef(cache.TablePfn, pi, PageLevel.PG_LEVEL_4K);
            // A PTE: its frame and flags, the rights of the levels above from the cache.
            ulong flags = pte_flags(pte);
            t = new Translation(va & PAGE_MASK, PageLevel.PG_LEVEL_4K, pte_pfn(pte),
                (flags & ~(_PAGE_RW | _PAGE_USER | _PAGE_NX)) | (flags & cache.Eff & (_PAGE_RW | _PAGE_USER)) | cache.Nx | (pte & _PAGE_NX), cache.TablePfn);
            return true;
        }
        return WalkTables(pgdPfn, va, cache, out t, out leaf);
    }

    // The walk through every level (the cache missed or there is none).
    private bool WalkTables(long pgdPfn, ulong va, PteTableCache? cache, out Translation t, out EntryRef leaf)
    {
        PageTable table = Tables[pgdPfn];
        long tablePfn = pgdPfn;
        ulong eff = _PAGE_RW | _PAGE_USER;
        ulong nx = 0;
        for (int level = 0; level < 4; level++)
        {
            int shift = level switch { 0 => PGDIR_SHIFT, 1 => PUD_SHIFT, 2 => PMD_SHIFT, _ => PAGE_SHIFT };
            int index = (int)((va >> shift) & 511);
            ulong e = table[index];
            if ((e & _PAGE_PRESENT) == 0)
                break;
            eff &= e | ~(_PAGE_RW | _PAGE_USER);
            nx |= e & _PAGE_NX;
            bool isLeaf = level == 3 || (level > 0 && (e & _PAGE_PSE) != 0);
            if (isLeaf)
            {
                var pl = (PageLevel)(4 - level);
                leaf = new EntryRef(tablePfn, index, pl);
                t = LeafTranslation(va, e, level, eff, nx, tablePfn);
                return true;
            }
            tablePfn = pte_pfn(e);
            table = Tables[tablePfn];
            if (level == 2)
                cache?.Fill(Tables, pgdPfn, va, table, tablePfn, eff, nx);
        }
        t = default;
        leaf = EntryRef.None;
        return false;
    }

    /// <summary>The translation a walk gives for leaf entry <paramref name="e"/> found at <paramref name="level"/> (0 pgd .. 3 pte), with the rights of the levels above.</summary>
    internal static Translation LeafTranslation(ulong va, ulong e, int level, ulong eff, ulong nx, long tablePfn)
    {
        var pl = (PageLevel)(4 - level);
        ulong flags = level == 3 ? pte_flags(e) : pgprot_large_2_4k(e & ~(level == 1 ? PHYSICAL_PUD_PAGE_MASK : PHYSICAL_PMD_PAGE_MASK));
        long basePfn = level switch { 1 => pud_pfn(e), 2 => pmd_pfn(e), _ => pte_pfn(e) };
        ulong size = page_level_size(pl);
        ulong effective = (flags & ~(_PAGE_RW | _PAGE_USER | _PAGE_NX)) | (flags & eff & (_PAGE_RW | _PAGE_USER)) | nx;
        return new Translation(va & ~(size - 1), pl, basePfn, effective, tablePfn);
    }

    /// <summary>
    /// Whether the tables map [<paramref name="start"/>, +<paramref name="size"/>) to consecutive
    /// frames from <paramref name="basePfn"/> with these effective flags, whatever the page
    /// sizes: a cached large translation is still right after a split that kept attributes.
    /// On a mismatch, <paramref name="at"/> and <paramref name="now"/> say where and what.
    /// </summary>
    public bool MapsUniformly(long pgdPfn, ulong start, ulong size, long basePfn, ulong flags, out ulong at, out Translation? now) =>
        MapsUniformly(pgdPfn, start, size, basePfn, flags, null, out at, out now);

    /// <summary>
    /// <see cref="MapsUniformly(long, ulong, ulong, long, ulong, out ulong, out Translation?)"/>
    /// walking through <paramref name="memo"/>: a check of many translations, in address
    /// order, walks the upper levels once per PTE table.
    /// </summary>
    internal bool MapsUniformly(long pgdPfn, ulong start, ulong size, long basePfn, ulong flags, PteTableCache? memo, out ulong at, out Translation? now)
    {
        ulong end = start + size;
        ulong va = start;
        while (va < end)
        {
            now = Walk(pgdPfn, va, memo, out var w, out _) ? w : null;
            at = va;
            if (now is not { } t || t.PfnOf(va) != basePfn + (long)((va - start) >> PageShifts.PAGE_SHIFT) || t.Flags != flags)
                return false;
            ulong next = t.VirtualBase + t.Size;
            va = next == 0 || next > end ? end : next;
        }
        at = start;
        now = null;
        return true;
    }
    /// <summary>
    /// The entries a walk of [<paramref name="start"/>, +<paramref name="size"/>) reads, as
    /// <see cref="PageTableStore.PathKey"/> keys in <paramref name="path"/>: one per entry on
    /// the way down, or one for a whole table when the range reads more than one of its
    /// entries (a large translation over a split table). The count, or -1 when a level is
    /// not present or the path needs more keys than <paramref name="path"/> holds. What the
    /// TLB check keeps of a translation it found coherent: while none of these entries
    /// changes, the walk gives the same answer.
    /// </summary>
    internal int TracePath(long pgdPfn, ulong start, ulong size, Span<ulong> path)
    {
        int n = 0;
        ulong end = start + size;
        ulong va = start;
        while (va < end)
        {
            long tablePfn = pgdPfn;
            ulong next = 0;
            for (int level = 0; level < 4; level++)
            {
                int shift = level switch { 0 => PGDIR_SHIFT, 1 => PUD_SHIFT, 2 => PMD_SHIFT, _ => PAGE_SHIFT };
                int id = Tables.IdOf(tablePfn);
                if (id == 0)
                    return -1;
                int index = (int)((va >> shift) & 511);
                ulong e = Tables.Read(id, index);
                if ((e & _PAGE_PRESENT) == 0)
                    return -1;
                bool isLeaf = level == 3 || (level > 0 && (e & _PAGE_PSE) != 0);
                if (!AddToPath(path, ref n, id, isLeaf && level == 3 && va + PAGE_SIZE < end ? PageTableStore.AnyIndex : index))
                    return -1;
                if (isLeaf)
                {
                    // A PTE table read as a whole: its other entries are in the key already.
                    ulong span = level == 3 && va + PAGE_SIZE < end ? PMD_SIZE : 1UL << shift;
                    next = (va & ~(span - 1)) + span;
                    break;
                }
                tablePfn = pte_pfn(e);
            }
            va = next == 0 || next > end ? end : next;
        }
        return n;
    }

    private static bool AddToPath(Span<ulong> path, ref int n, int id, int index)
    {
        for (int j = 0; j < n; j++)
        {
            if ((int)(path[j] >> 10) != id)
                continue;
            if ((int)(path[j] & 1023) != index)
                path[j] = PageTableStore.PathKey(id, PageTableStore.AnyIndex);
            return true;
        }
        if (n == path.Length)
            return false;
        path[n++] = PageTableStore.PathKey(id, index);
        return true;
    }
}

/// <summary>
/// A leaf translation: the mapped range's base, its size level, the base pfn, the effective
/// 4K-form flags, and the table frame that holds the leaf entry (what a paging-structure
/// cache would keep pointing at).
/// </summary>
public readonly record struct Translation(ulong VirtualBase, PageLevel Level, long BasePfn, ulong Flags, long TablePfn = -1)
{
    public ulong Size => PageShifts.page_level_size(Level);

    /// <summary>The frame backing <paramref name="va"/> within this translation.</summary>
    public long PfnOf(ulong va) => BasePfn + (long)((va - VirtualBase) >> PageShifts.PAGE_SHIFT);
}
