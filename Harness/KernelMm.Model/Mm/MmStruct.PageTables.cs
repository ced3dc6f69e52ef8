using KernelMm.Model.Memory;
using KernelMm.Model.Paging;
using KernelMm.Model.Stats;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Mm;

/// <summary>The user page tables of an mm: allocation on fault, and free_pgd_range.</summary>
public sealed partial class MmStruct
{
    private const int KERNEL_PGD_BOUNDARY = 256;

    /// <summary>
    /// pgd_alloc: one page, or two with KAISER (PGD_ALLOCATION_ORDER 1: the shadow pgd at
    /// +4 KiB); pgd_ctor copies the kernel half of init_mm's pgd, and of its shadow.
    /// _pgd_alloc asks for GFP_PGTABLE_USER (arch/x86/mm/pgtable.c, 5.x), so the pgd is
    /// charged to the memcg's kmem like every user table: 8 KiB under pti. It runs no
    /// page-table constructor, so it is not in NR_PAGETABLE nor in memory.stat pagetables.
    /// </summary>
    private void PgdAlloc()
    {
        int order = _k.Options.Pti ? 1 : 0;
        long pfn = _k.Memcgs.AllocKmemPages(GfpFlags.GFP_PGTABLE_USER, order, ChargeTo, PageOwnerKind.UserPageTable, Owner.Pid);
        if (pfn < 0)
            throw new KernelErrnoException("fork", Errno.ENOMEM, "pgd_alloc");
        Pgd = pfn;
        var pgd = _k.Tables.Create(pfn);
        pgd.CopyFrom(_k.Tables[_k.InitTopPgt], KERNEL_PGD_BOUNDARY, KERNEL_PGD_BOUNDARY);
        if (order == 1)
        {
            ShadowPgd = pfn + 1;
            var shadow = _k.Tables.Create(ShadowPgd);
            shadow.CopyFrom(_k.Tables[_k.Image.InitShadowPgtPfn], KERNEL_PGD_BOUNDARY, KERNEL_PGD_BOUNDARY);
        }
    }

    /// <summary>
    /// pgd_free, after exit_mmap emptied the user half. The pgd never goes through a
    /// release_pages batch; in the base kernel (2015 kmemcg: what alloc_kmem_pages charged,
    /// free_kmem_pages uncharges) pgd_free pairs its charged allocation with
    /// free_kmem_pages, so the pgd's charge comes back; with kmem-uncharge-free that helper
    /// is gone and the generic free path uncharges the PageKmem pgd instead.
    /// </summary>
    private void PgdFree()
    {
        _k.Tables.Remove(Pgd);
        if (ShadowPgd >= 0)
            _k.Tables.Remove(ShadowPgd);
        _k.Memcgs.FreeKmemPages(Pgd, ShadowPgd >= 0 ? 1 : 0);
    }

    /// <summary>
    /// set_pgd of a user-half entry; with KAISER, kaiser_set_shadow_pgd mirrors an entry that
    /// carries USER into the shadow pgd and puts NX on the kernel's copy, so user memory is
    /// never executable in kernel mode; a clear is mirrored too.
    /// </summary>
    private void SetPgd(int index, ulong value)
    {
        var pgd = _k.Tables[Pgd];
        if (ShadowPgd >= 0 && index < KERNEL_PGD_BOUNDARY)
        {
            var shadow = _k.Tables[ShadowPgd];
            if ((value & _PAGE_USER) != 0)
            {
                shadow[index] = value;
                value |= _PAGE_NX;
            }
            else if (value == 0)
            {
                shadow[index] = 0;
            }
        }
        pgd[index] = value;
    }

    /// <summary>
    /// pud_alloc_one / pmd_alloc_one / pte_alloc_one for a user mm: a zeroed page charged to
    /// the mm's memcg (alloc_kmem_pages). PMD and PTE pages run their constructor
    /// (PageTable, NR_PAGETABLE); every level is counted in mm_pgtables_bytes (VmPTE).
    /// </summary>
    private long AllocUserTable(PageLevel tableOf)
    {
        long pfn = _k.PageTablePages.Alloc(GfpFlags.GFP_PGTABLE_USER, ChargeTo, PageOwnerKind.UserPageTable, Owner.Pid);
        if (pfn < 0)
            return -1;
        _k.Tables.Create(pfn);
        if (tableOf != PageLevel.PG_LEVEL_1G)
        {
            Frames[pfn].Flags |= PageFlags.PG_table;
            _k.VmStat.Mod(VmStatItem.NR_PAGETABLE, 1);
            _k.Memcgs.ModPageTableStat(pfn, 1);
        }
        PgtablesBytes += (long)PAGE_SIZE;
        _k.PageTableHooks.UserTableAllocated?.Invoke(this, pfn, tableOf);
        return pfn;
    }

    /// <summary>The destructor half of pte_free_tlb/pmd_free_tlb, run when the table is unlinked.</summary>
    private void UnlinkUserTable(long pfn, PageLevel tableOf)
    {
        if (tableOf != PageLevel.PG_LEVEL_1G)
        {
            Frames[pfn].Flags &= ~PageFlags.PG_table;
            _k.VmStat.Mod(VmStatItem.NR_PAGETABLE, -1);
            _k.Memcgs.ModPageTableStat(pfn, -1);
        }
        PgtablesBytes -= (long)PAGE_SIZE;
        _k.PageTableHooks.UserTableFreed?.Invoke(this, pfn, tableOf);
    }

    /// <summary>
    /// The PTE slot for <paramref name="addr"/>, allocating the PUD, PMD and PTE tables on
    /// the way (__pud_alloc, __pmd_alloc, __pte_alloc); null when memory is out.
    /// </summary>
    private EntryRef? PteAlloc(ulong addr)
    {
        if (PteCache.Covers(_k.Tables, Pgd, addr))
            return new EntryRef(PteCache.TablePfn, pte_index(addr), PageLevel.PG_LEVEL_4K);
        if (PmdAlloc(addr) is not { } pmdSlot)
            return null;
        var pmdt = _k.Tables[pmdSlot.TablePfn];
        int mi = pmdSlot.Index;
        if (pmd_none(pmdt[mi]))
        {
            long pte = AllocUserTable(PageLevel.PG_LEVEL_4K);
            if (pte < 0)
                return null;
            pmdt[mi] = mk_table(pte, _PAGE_TABLE);
        }
        ulong g = _k.Tables[Pgd][pgd_index(addr)], u = _k.Tables[pte_pfn(g)][pud_index(addr)], m = pmdt[mi];
        long ptePfn = pmd_pfn(m);
        PteCache.Fill(_k.Tables, Pgd, addr, _k.Tables[ptePfn], ptePfn, _PAGE_RW & g & u & m | _PAGE_USER & g & u & m, (g | u | m) & _PAGE_NX);
        return new EntryRef(ptePfn, pte_index(addr), PageLevel.PG_LEVEL_4K);
    }

    /// <summary>The PMD slot for <paramref name="addr"/>, allocating the PUD and PMD tables on the way (alloc_new_pmd); null when memory is out.</summary>
    private EntryRef? PmdAlloc(ulong addr)
    {
        var pgd = _k.Tables[Pgd];
        int gi = pgd_index(addr);
        if (pgd_none(pgd[gi]))
        {
            long pud = AllocUserTable(PageLevel.PG_LEVEL_1G);
            if (pud < 0)
                return null;
            SetPgd(gi, mk_table(pud, _PAGE_TABLE));
        }
        var pudt = _k.Tables[pte_pfn(pgd[gi])];
        int ui = pud_index(addr);
        if (pud_none(pudt[ui]))
        {
            long pmd = AllocUserTable(PageLevel.PG_LEVEL_2M);
            if (pmd < 0)
                return null;
            pudt[ui] = mk_table(pmd, _PAGE_TABLE);
        }
        return new EntryRef(pud_pfn(pudt[ui]), pmd_index(addr), PageLevel.PG_LEVEL_2M);
    }

    /// <summary>get_old_pmd: the PMD slot of <paramref name="addr"/> if its PUD and PMD tables exist and the entry is not none, else null.</summary>
    private EntryRef? GetOldPmd(ulong addr)
    {
        ulong g = _k.Tables[Pgd][pgd_index(addr)];
        if (pgd_none(g))
            return null;
        ulong u = _k.Tables[pte_pfn(g)][pud_index(addr)];
        if (pud_none(u))
            return null;
        var slot = new EntryRef(pud_pfn(u), pmd_index(addr), PageLevel.PG_LEVEL_2M);
        return pmd_none(_k.Tables[slot.TablePfn][slot.Index]) ? null : slot;
    }

    /// <summary>pud_alloc: the PUD table under the pgd entry of <paramref name="addr"/>, allocated if none; -1 when memory is out.</summary>
    private long PudAlloc(ulong addr)
    {
        var pgd = _k.Tables[Pgd];
        int gi = pgd_index(addr);
        if (pgd_none(pgd[gi]))
        {
            long pud = AllocUserTable(PageLevel.PG_LEVEL_1G);
            if (pud < 0)
                return -1;
            SetPgd(gi, mk_table(pud, _PAGE_TABLE));
        }
        return pte_pfn(pgd[gi]);
    }

    /// <summary>pmd_alloc: the PMD table under the PUD entry of <paramref name="addr"/> in table <paramref name="pudPfn"/>, allocated if none.</summary>
    private long PmdAlloc(long pudPfn, ulong addr)
    {
        var pudt = _k.Tables[pudPfn];
        int ui = pud_index(addr);
        if (pud_none(pudt[ui]))
        {
            long pmd = AllocUserTable(PageLevel.PG_LEVEL_2M);
            if (pmd < 0)
                return -1;
            pudt[ui] = mk_table(pmd, _PAGE_TABLE);
        }
        return pud_pfn(pudt[ui]);
    }

    /// <summary>pte_alloc: the PTE table under the PMD entry of <paramref name="addr"/> in table <paramref name="pmdPfn"/>, allocated if none.</summary>
    private long PteAllocIn(long pmdPfn, ulong addr)
    {
        var pmdt = _k.Tables[pmdPfn];
        int mi = pmd_index(addr);
        if (pmd_none(pmdt[mi]))
        {
            long pte = AllocUserTable(PageLevel.PG_LEVEL_4K);
            if (pte < 0)
                return -1;
            pmdt[mi] = mk_table(pte, _PAGE_TABLE);
        }
        return pmd_pfn(pmdt[mi]);
    }

    /// <summary>
    /// The entries of [start, end) that are not none, in address order, with their slots:
    /// what each *_pte_range of mm/ visits. A missing PTE table skips its whole 2M. The
    /// caller may rewrite the entry it was given.
    /// </summary>
    /// <summary>walk_page_range(mm, 0, mm-&gt;highest_vm_end) at the PTE level: every present user PTE, VMA by VMA.</summary>
    internal IEnumerable<(Vma Vma, ulong Addr, ulong Pte)> PresentUserPtes()
    {
        foreach (var v in _vmas)
            foreach (var (addr, _, pte) in PresentPtes(v.Start, v.End))
                yield return (v, addr, pte);
    }

    private IEnumerable<(ulong Addr, EntryRef Slot, ulong Pte)> PresentPtes(ulong start, ulong end)
    {
        for (ulong addr = start; addr < end;)
        {
            ulong pmdEnd = Math.Min((addr & PMD_MASK) + PMD_SIZE, end);
            long ptePfn = PteTableOf(addr);
            if (ptePfn >= 0)
            {
                var ptes = _k.Tables[ptePfn];
                ulong tableBase = addr & PMD_MASK;
                int last = pte_index(pmdEnd - 1);
                for (int i = ptes.NextUsed(pte_index(addr)); i <= last; i = ptes.NextUsed(i + 1))
                    yield return (tableBase + ((ulong)i << PAGE_SHIFT), new EntryRef(ptePfn, i, PageLevel.PG_LEVEL_4K), ptes[i]);
            }
            addr = pmdEnd;
        }
    }

    /// <summary>The PTE table frame that maps <paramref name="addr"/>, or -1 (no allocation).</summary>
    internal long PteTableOf(ulong addr)
    {
        ulong g = _k.Tables[Pgd][pgd_index(addr)];
        if (pgd_none(g))
            return -1;
        ulong u = _k.Tables[pte_pfn(g)][pud_index(addr)];
        if (pud_none(u))
            return -1;
        ulong m = _k.Tables[pud_pfn(u)][pmd_index(addr)];
        return pmd_none(m) ? -1 : pmd_pfn(m);
    }

    /// <summary>
    /// The PTE tables that map some part of a VMA, with the 2M-aligned address each maps,
    /// in address order (what walk_page_range's pmd_entry visits).
    /// </summary>
    public IEnumerable<(ulong Addr, long PtePfn)> PteTablesInVmas()
    {
        ulong last = ulong.MaxValue;
        foreach (var v in _vmas.ToList())
        {
            for (ulong addr = v.Start & PMD_MASK; addr < v.End; addr += PMD_SIZE)
            {
                if (addr == last)
                    continue;
                last = addr;
                long pte = PteTableOf(addr);
                if (pte >= 0)
                    yield return (addr, pte);
            }
        }
    }

    /// <summary>
    /// Unlinks the PTE table under the PMD entry of <paramref name="addr"/> as the free_ptes
    /// RFC does before freeing it: pmd_clear and flush_tlb_range of the 2M. The table is
    /// still counted and still a table until <see cref="FreeClearedPteTable"/>.
    /// </summary>
    public void ClearPteTable(ulong addr)
    {
        var pud = _k.Tables[pte_pfn(_k.Tables[Pgd][pgd_index(addr)])];
        var pmd = _k.Tables[pud_pfn(pud[pud_index(addr)])];
        pmd[pmd_index(addr)] = 0;
        _k.FlushTlbMmRange(this, addr & PMD_MASK, (addr & PMD_MASK) + PMD_SIZE);
    }

    /// <summary>The rest of the free_ptes RFC's free of an unlinked PTE table: mm_dec_nr_ptes, the destructor, then __free_page (the generic free path, not the batched one).</summary>
    public void FreeClearedPteTable(long ptePfn)
    {
        UnlinkUserTable(ptePfn, PageLevel.PG_LEVEL_4K);
        _k.FreeTablePage(ptePfn, "free_ptes");
    }

    /// <summary>
    /// free_pgd_range: free the PTE, PMD and PUD tables that map only [addr, end), never
    /// below <paramref name="floor"/> or at/above <paramref name="ceiling"/> (0: the top),
    /// where neighbouring VMAs may still need them.
    /// </summary>
    private void FreePgdRange(MmuGather tlb, ulong addr, ulong end, ulong floor, ulong ceiling)
    {
        addr &= PMD_MASK;
        if (addr < floor)
        {
            addr += PMD_SIZE;
            if (addr == 0)
                return;
        }
        if (ceiling != 0)
        {
            ceiling &= PMD_MASK;
            if (ceiling == 0)
                return;
        }
        if (end - 1 > ceiling - 1)
            end -= PMD_SIZE;
        if (addr > end - 1)
            return;

        var pgd = _k.Tables[Pgd];
        do
        {
            ulong next = AddrEnd(addr, end, PGDIR_SIZE);
            int gi = pgd_index(addr);
            if (!pgd_none(pgd[gi]))
                FreePudRange(tlb, gi, addr, next, floor, ceiling);
            addr = next;
        }
        while (addr != end);
    }

    /// <summary>pgd_addr_end and friends: the next boundary, or end.</summary>
    private static ulong AddrEnd(ulong addr, ulong end, ulong size)
    {
        ulong boundary = (addr + size) & ~(size - 1);
        return boundary - 1 < end - 1 ? boundary : end;
    }

    // free_p4d_range with the p4d folded into the pgd: its tail frees the PUD table.
    private void FreePudRange(MmuGather tlb, int gi, ulong addr, ulong end, ulong floor, ulong ceiling)
    {
        long pudPfn = pte_pfn(_k.Tables[Pgd][gi]);
        var pud = _k.Tables[pudPfn];
        ulong start = addr;
        do
        {
            ulong next = AddrEnd(addr, end, PUD_SIZE);
            int ui = pud_index(addr);
            if (!pud_none(pud[ui]))
                FreePmdRange(tlb, pud, ui, addr, next, floor, ceiling);
            addr = next;
        }
        while (addr != end);

        start &= PGDIR_MASK;
        if (start < floor)
            return;
        if (ceiling != 0)
        {
            ceiling &= PGDIR_MASK;
            if (ceiling == 0)
                return;
        }
        if (end - 1 > ceiling - 1)
            return;
        SetPgd(gi, 0);
        UnlinkUserTable(pudPfn, PageLevel.PG_LEVEL_1G);
        tlb.RemoveTable(pudPfn, start, PGDIR_SIZE);
    }

    private void FreePmdRange(MmuGather tlb, PageTable pud, int ui, ulong addr, ulong end, ulong floor, ulong ceiling)
    {
        long pmdPfn = pud_pfn(pud[ui]);
        var pmd = _k.Tables[pmdPfn];
        ulong start = addr;
        do
        {
            ulong next = AddrEnd(addr, end, PMD_SIZE);
            int mi = pmd_index(addr);
            if (!pmd_none(pmd[mi]))
            {
                // free_pte_range
                long ptePfn = pmd_pfn(pmd[mi]);
                pmd[mi] = 0;
                if ((_k.Faults & Diagnostics.FaultInjection.LeakPageTable) == 0)
                {
                    UnlinkUserTable(ptePfn, PageLevel.PG_LEVEL_4K);
                    tlb.RemoveTable(ptePfn, addr & PMD_MASK, PMD_SIZE);
                }
            }
            addr = next;
        }
        while (addr != end);

        start &= PUD_MASK;
        if (start < floor)
            return;
        if (ceiling != 0)
        {
            ceiling &= PUD_MASK;
            if (ceiling == 0)
                return;
        }
        if (end - 1 > ceiling - 1)
            return;
        pud[ui] = 0;
        UnlinkUserTable(pmdPfn, PageLevel.PG_LEVEL_2M);
        tlb.RemoveTable(pmdPfn, start, PUD_SIZE);
    }

    /// <summary>
    /// free_pgtables over a run of detached VMAs: nearby VMAs (within a PMD) are gathered
    /// into one free_pgd_range, whose ceiling is the next VMA's start.
    /// </summary>
    private void FreePgtables(MmuGather tlb, IReadOnlyList<Vma> vmas, ulong floor, ulong ceiling)
    {
        int i = 0;
        while (i < vmas.Count)
        {
            ulong addr = vmas[i].Start;
            while (i + 1 < vmas.Count && vmas[i + 1].Start <= vmas[i].End + PMD_SIZE)
                i++;
            ulong next = i + 1 < vmas.Count ? vmas[i + 1].Start : ceiling;
            FreePgdRange(tlb, addr, vmas[i].End, floor, next);
            i++;
        }
    }
}
