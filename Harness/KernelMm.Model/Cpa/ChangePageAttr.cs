using KernelMm.Model.Boot;
using KernelMm.Model.Memory;
using KernelMm.Model.Paging;
using static KernelMm.Model.KernelLayout;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Cpa;

/// <summary>
/// change_page_attr of arch/x86/mm/pat/set_memory.c (5.x): the step loop, the 4K update,
/// should_split_large_page (keep a large page when the request covers it with one prot),
/// split_large_page (1G to 2M to 4K, the table from the buddy allocator, flush_tlb_all),
/// alias processing to the direct map and the high map, static protections and cpa_flush.
/// </summary>
public sealed class ChangePageAttr(Kernel k)
{
    /// <summary>Requests made (change_page_attr_set_clr calls), for benchmarks and tests.</summary>
    public long Calls { get; private set; }

    /// <summary>Large pages split since boot, by the level that was split.</summary>
    public long Splits2M { get; private set; }
    public long Splits1G { get; private set; }

    /// <summary>
    /// Seam: runs in cpa_flush before the TLB flush, with the request; returning true asks
    /// for a full flush. The unpatched kernel does nothing here; restore-large-pages
    /// collapses fragmented tables from it.
    /// </summary>
    public Func<CpaData, bool>? BeforeCpaFlush { get; set; }

    /// <summary>Seam: runs in cpa_flush after the TLB flush (restore-large-pages frees the tables it queued).</summary>
    public Action<CpaData>? AfterCpaFlush { get; set; }

    /// <summary>
    /// change_page_attr_set_clr: apply the request's set and clear masks to a
    /// range (or array) of kernel pages, then flush. Returns 0 or a negative errno.
    /// </summary>
    public int change_page_attr_set_clr(CpaData cpa)
    {
        Calls++;
        // "Check, if we are requested to set a not supported feature. Clearing non-supported
        // features is OK": canon_pgprot (massage_pgprot) of the set mask only.
        cpa.MaskSet = k.massage_pgprot(cpa.MaskSet);
        if (cpa.MaskSet == 0 && cpa.MaskClr == 0 && !cpa.ForceSplit)
            return 0;
        if ((cpa.Flags & (CpaFlags.CPA_ARRAY | CpaFlags.CPA_PAGES_ARRAY)) == 0 && (cpa.Vaddr[0] & ~PAGE_MASK) != 0)
        {
            k.Log.WarnOnce("cpa-misaligned", $"WARNING: misaligned address 0x{cpa.Vaddr[0]:x} in change_page_attr_set_clr");
            cpa.Vaddr[0] &= PAGE_MASK;
        }
        // vm_unmap_aliases: no lazily freed vmalloc range may keep an alias of these pages
        // with the old attributes in a TLB (kmap_flush_unused has nothing to do on x86-64).
        k.Vmalloc.VmUnmapAliases();

        // "No alias checking for _NX bit modifications" (5.x): set_memory_nx/x touch neither
        // alias, force no full flush and, not being primary, take a missing pte quietly.
        bool checkalias = (cpa.MaskSet | cpa.MaskClr) != _PAGE_NX && (cpa.Flags & CpaFlags.CPA_NO_CHECK_ALIAS) == 0;
        int ret = __change_page_attr_set_clr(cpa, checkalias);
        if ((cpa.Flags & CpaFlags.CPA_FLUSHTLB) == 0)
            return ret;
        if (ret != 0)
        {
            cpa_flush_all();
            return ret;
        }
        cpa_flush(cpa);
        return ret;
    }

    /// <summary>__change_page_attr_set_clr(cpa, checkalias): the step loop; checkalias is also the steps' "primary".</summary>
    private int __change_page_attr_set_clr(CpaData cpa, bool primary)
    {
        long numpages = cpa.NumPages;
        long rempages = numpages;
        int ret = 0;
        if (cpa.MaskSet == 0 && cpa.MaskClr == 0 && !cpa.ForceSplit)
            return 0;
        while (rempages > 0)
        {
            cpa.NumPages = rempages;
            if ((cpa.Flags & (CpaFlags.CPA_ARRAY | CpaFlags.CPA_PAGES_ARRAY)) != 0)
                cpa.NumPages = 1;
            ret = __change_page_attr(cpa, primary);
            if (ret != 0)
                break;
            if (primary)
            {
                ret = cpa_process_alias(cpa);
                if (ret != 0)
                    break;
            }
            if (cpa.NumPages > rempages || cpa.NumPages <= 0)
                throw new InvalidOperationException("BUG_ON(cpa->numpages > rempages || !cpa->numpages)");
            rempages -= cpa.NumPages;
            cpa.CurPage += cpa.NumPages;
        }
        cpa.NumPages = numpages;
        return ret;
    }

    private int __change_page_attr(CpaData cpa, bool primary)
    {
        ulong address = cpa.Addr(cpa.CurPage);
        while (true)
        {
            var kpte = k.lookup_address(address);
            if (kpte.IsNull)
                return __cpa_process_fault(cpa, address, primary);
            ulong old = k.Walker.Read(kpte);
            if (pte_none(old))
                return __cpa_process_fault(cpa, address, primary);

            if (kpte.Level == PageLevel.PG_LEVEL_4K)
            {
                ulong oldProt = pte_flags(old);
                ulong newProt = (oldProt & ~cpa.MaskClr) | cpa.MaskSet;
                long pfn = pte_pfn(old);
                newProt = static_protections(newProt, address, pfn, 1, 0);
                newProt = pgprot_clear_protnone_bits(newProt);
                ulong newPte = pfn_pte(pfn, k.massage_pgprot(newProt)); // pfn_pte's check_pgprot
                cpa.Pfn = pfn;
                if (old != newPte)
                {
                    k.Walker.Write(kpte, newPte);
                    cpa.Flags |= CpaFlags.CPA_FLUSHTLB;
                }
                cpa.NumPages = 1;
                return 0;
            }

            int doSplit = should_split_large_page(kpte, address, cpa);
            if (doSplit <= 0)
                return doSplit;
            int err = split_large_page(cpa, kpte, address);
            if (err != 0)
                return err;
        }
    }

    /// <summary>pgprot_clear_protnone_bits: GLOBAL means PROTNONE on a not-present entry, so it goes.</summary>
    public static ulong pgprot_clear_protnone_bits(ulong prot) =>
        (prot & _PAGE_PRESENT) == 0 ? prot & ~_PAGE_GLOBAL : prot;

    private int __cpa_process_fault(CpaData cpa, ulong vaddr, bool primary)
    {
        if (!primary)
        {
            cpa.NumPages = 1;
            return 0;
        }
        // The direct map is expected to have holes.
        if (within(vaddr, PAGE_OFFSET, PAGE_OFFSET + ((ulong)k.MaxPfnMapped << PAGE_SHIFT)))
        {
            cpa.NumPages = 1;
            cpa.Pfn = (long)(__pa(vaddr) >> PAGE_SHIFT);
            return 0;
        }
        if (k.Image.PfnInHighmap(cpa.Pfn))
            return -(int)Errno.EFAULT;
        k.Log.Warn("cpa", $"WARNING: CPA: called for zero pte. vaddr = {vaddr:x} cpa->vaddr = {cpa.Vaddr[0]:x}");
        return -(int)Errno.EFAULT;
    }

    /// <summary>
    /// should_split_large_page: 0 to keep the large page (same prot, or the request covers it
    /// whole and the page was rewritten in place), 1 to split it.
    /// </summary>
    private int should_split_large_page(EntryRef kpte, ulong address, CpaData cpa)
    {
        if (cpa.ForceSplit)
            return 1;
        ulong entry = k.Walker.Read(kpte);
        ulong oldProt;
        long oldPfn;
        if (kpte.Level == PageLevel.PG_LEVEL_2M)
        {
            oldProt = pmd_flags(entry);
            oldPfn = pmd_pfn(entry);
        }
        else if (kpte.Level == PageLevel.PG_LEVEL_1G)
        {
            oldProt = pud_flags(entry);
            oldPfn = pud_pfn(entry);
        }
        else
        {
            return -(int)Errno.EINVAL;
        }

        ulong psize = page_level_size(kpte.Level);
        ulong pmask = page_level_mask(kpte.Level);
        ulong lpaddr = (address + psize) & pmask;
        long numpages = (long)((lpaddr - address) >> PAGE_SHIFT);
        if (numpages < cpa.NumPages)
            cpa.NumPages = numpages;

        // The request is in 4K format; compare in large format (the PAT bit moves).
        ulong reqProt = pgprot_large_2_4k(oldProt);
        reqProt &= ~cpa.MaskClr;
        reqProt |= cpa.MaskSet;
        reqProt = pgprot_4k_2_large(reqProt);
        reqProt = pgprot_clear_protnone_bits(reqProt);
        if ((reqProt & _PAGE_PRESENT) != 0)
            reqProt |= _PAGE_PSE;

        cpa.Pfn = oldPfn + (long)((address & (psize - 1)) >> PAGE_SHIFT);
        lpaddr = address & pmask;
        numpages = (long)(psize >> PAGE_SHIFT);

        ulong chk = static_protections(oldProt, lpaddr, oldPfn, numpages, psize);
        if (chk != oldProt)
        {
            k.Log.WarnOnce("cpa-static-prot", $"WARNING: CPA: large page at 0x{lpaddr:x} conflicts with static protections; splitting");
            cpa.ForceStaticProt = true;
            return 1;
        }

        if (reqProt == oldProt)
            return 0;

        if (address != lpaddr || cpa.NumPages != numpages)
            return 1;

        ulong newProt = static_protections(reqProt, lpaddr, oldPfn, numpages, psize);
        if (newProt != reqProt)
            return 1;

        k.Walker.Write(kpte, pfn_pte(oldPfn, k.massage_pgprot(newProt)));
        cpa.Flags |= CpaFlags.CPA_FLUSHTLB;
        return 0;
    }

    /// <summary>split_large_page: one page from alloc_pages(GFP_KERNEL, 0) becomes the lower-level table.</summary>
    private int split_large_page(CpaData cpa, EntryRef kpte, ulong address)
    {
        long basePfn = k.Buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.CpaSplitTable);
        if (basePfn < 0)
            return -(int)Errno.ENOMEM;
        if (__split_large_page(cpa, kpte, address, basePfn) != 0)
            k.Buddy.FreePages(basePfn, 0);
        return 0;
    }

    private int __split_large_page(CpaData cpa, EntryRef kpte, ulong address, long basePfn)
    {
        var now = k.lookup_address(address);
        if (now != kpte)
            return 1;

        ulong entry = k.Walker.Read(kpte);
        ulong refProt;
        long refPfn, pfnInc = 1;
        ulong lpaddr, lpinc;
        switch (kpte.Level)
        {
            case PageLevel.PG_LEVEL_2M:
                refProt = pgprot_large_2_4k(pmd_flags(entry));
                refPfn = pmd_pfn(entry);
                lpaddr = address & PMD_MASK;
                lpinc = PAGE_SIZE;
                break;
            case PageLevel.PG_LEVEL_1G:
                refProt = pud_flags(entry);
                refPfn = pud_pfn(entry);
                pfnInc = (long)(PMD_SIZE >> PAGE_SHIFT);
                lpaddr = address & PUD_MASK;
                lpinc = PMD_SIZE;
                // A not-present 1G entry must not become "present" 2M entries through PSE.
                if ((refProt & _PAGE_PRESENT) == 0)
                    refProt &= ~_PAGE_PSE;
                break;
            default:
                return 1;
        }
        refProt = pgprot_clear_protnone_bits(refProt);

        var pbase = k.Tables.Create(basePfn);
        var entries = pbase.BeginWriteAll();
        long pfn = refPfn;
        if (cpa.ForceStaticProt)
        {
            for (int i = 0; i < PTRS_PER_TABLE; i++, pfn += pfnInc, lpaddr += lpinc)
                entries[i] = split_set_pte(cpa, pfn, refProt, lpaddr, lpinc);
        }
        else
        {
            // split_set_pte without static protections: the same prot on every entry, massaged once.
            ulong prot = k.massage_pgprot(refProt);
            for (int i = 0; i < PTRS_PER_TABLE; i++, pfn += pfnInc)
                entries[i] = pfn_pte(pfn, prot);
        }
        pbase.EndWriteAll();

        if (k.virt_addr_valid(address))
        {
            long p = (long)((address >= __START_KERNEL_map ? address - __START_KERNEL_map : __pa(address)) >> PAGE_SHIFT);
            if (k.pfn_range_is_mapped(p, p + 1) && (k.Faults & Diagnostics.FaultInjection.SkipSplitPageCount) == 0)
            {
                // virt_addr_valid accepts the high map too, so its splits move DirectMap as well.
                if (k.DirectMap.split_page_count(kpte.Level) && address >= __START_KERNEL_map)
                    k.DirectMap.NoteUnbackedSplit(kpte.Level);
            }
        }
        if (kpte.Level == PageLevel.PG_LEVEL_2M)
            Splits2M++;
        else
            Splits1G++;

        k.Walker.Write(kpte, mk_table(basePfn, _KERNPG_TABLE));
        // The SDM's rule: no TLB may hold both sizes with different attributes, so flush
        // before the changed entry is written (__split_large_page's flush_tlb_all).
        k.Tlbs.flush_tlb_all();
        return 0;
    }

    private ulong split_set_pte(CpaData cpa, long pfn, ulong refProt, ulong address, ulong size)
    {
        if (cpa.ForceStaticProt)
        {
            ulong prot = static_protections(refProt, address, pfn, (long)(size >> PAGE_SHIFT), 0);
            if (prot != refProt)
            {
                // Only a PMD split can be fixed up here; a PUD split would need new PTE pages.
                if (size == PAGE_SIZE)
                    refProt = prot;
                else
                    k.Log.WarnOnce("cpa-pud-fixup", "CPA: Cannot fixup static protections for PUD split");
            }
        }
        return pfn_pte(pfn, k.massage_pgprot(refProt));
    }

    /// <summary>
    /// cpa_process_alias (5.x): a change to a non-direct-map address is made to the
    /// direct-map alias of its pfn too (and to the high map for image pfns), with the
    /// request's own masks (masking NX out of them is 6.2's rework; in 5.x an NX-only
    /// request never gets here). Both force a full flush.
    /// </summary>
    private int cpa_process_alias(CpaData cpa)
    {
        if (!k.pfn_range_is_mapped(cpa.Pfn, cpa.Pfn + 1))
            return 0;
        ulong vaddr = cpa.Addr(cpa.CurPage);
        ulong maskSet = cpa.MaskSet;
        ulong maskClr = cpa.MaskClr;
        if (!within(vaddr, PAGE_OFFSET, PAGE_OFFSET + ((ulong)k.MaxPfnMapped << PAGE_SHIFT)))
        {
            var alias = cpa.AliasAt(__va((ulong)cpa.Pfn << PAGE_SHIFT), maskSet, maskClr);
            cpa.ForceFlushAll = true;
            // The alias's CPA_FLUSHTLB stays in alias_cpa, as in the kernel; force_flush_all is what the primary keeps.
            int ret = __change_page_attr_set_clr(alias, primary: false);
            if (ret != 0)
                return ret;
        }
        if (!within(vaddr, k.Image._text, k.Image._brk_end) && k.Image.PfnInHighmap(cpa.Pfn))
        {
            ulong highVa = ((ulong)cpa.Pfn << PAGE_SHIFT) + __START_KERNEL_map;
            var alias = cpa.AliasAt(highVa, maskSet, maskClr);
            cpa.ForceFlushAll = true;
            // The high mapping range is imprecise, so the result is ignored.
            __change_page_attr_set_clr(alias, primary: false);
        }
        return 0;
    }

    /// <summary>
    /// static_protections (x86-64): no NX on kernel text; no RW on text+rodata of the high
    /// map while it is mapped large (unless the request covers the large page whole); no RW
    /// on any alias of .rodata once kernel_set_to_readonly.
    /// </summary>
    private ulong static_protections(ulong prot, ulong start, long pfn, long npg, ulong lpsize)
    {
        if ((prot & _PAGE_PRESENT) == 0)
            return prot;
        ulong end = start + (ulong)npg * PAGE_SIZE - 1;
        ulong forbidden = 0;
        if (overlaps(start, end, k.Image._text, k.Image._etext - 1))
            forbidden |= _PAGE_NX;
        // A change spanning a whole large page keeps it (the ftrace special case).
        if (lpsize != (ulong)npg * PAGE_SIZE || (start & (lpsize - 1)) != 0)
            forbidden |= protect_kernel_text_ro(start, end);
        long spfnRo = (long)(KernelImage.__pa_symbol(k.Image.__start_rodata) >> PAGE_SHIFT);
        long epfnRo = (long)(KernelImage.__pa_symbol(k.Image.__end_rodata) >> PAGE_SHIFT) - 1;
        if (k.KernelSetToReadonly && overlaps((ulong)pfn, (ulong)(pfn + npg - 1), (ulong)spfnRo, (ulong)epfnRo))
            forbidden |= _PAGE_RW;
        return prot & ~forbidden;
    }

    private ulong protect_kernel_text_ro(ulong start, ulong end)
    {
        ulong tEnd = k.Image.__end_rodata_hpage_align - 1;
        ulong tStart = k.Image._text;
        if (!k.KernelSetToReadonly || !overlaps(start, end, tStart, tEnd))
            return 0;
        var e = k.lookup_address(start);
        if (!e.IsNull && e.Level != PageLevel.PG_LEVEL_4K)
            return _PAGE_RW;
        return 0;
    }

    private static bool overlaps(ulong r1Start, ulong r1End, ulong r2Start, ulong r2End) =>
        r1Start <= r2End && r1End >= r2Start;

    /// <summary>
    /// cpa_flush: the seam (restore-large-pages), then a full flush when aliases were
    /// touched or the request is above tlb_single_page_flush_ceiling, else one INVLPG per page
    /// of the request on every CPU.
    /// </summary>
    private void cpa_flush(CpaData cpa)
    {
        bool flushAll = BeforeCpaFlush?.Invoke(cpa) ?? false;
        if ((k.Faults & Diagnostics.FaultInjection.SkipTlbFlush) == 0)
        {
            if (flushAll || cpa.ForceFlushAll || cpa.NumPages > Tlb.TlbSet.tlb_single_page_flush_ceiling)
            {
                k.Tlbs.flush_tlb_all();
            }
            else
            {
                for (long i = 0; i < cpa.NumPages; i++)
                    k.Tlbs.flush_tlb_one_kernel(cpa.Addr(i));
            }
        }
        k.FlushPoint("cpa_flush", Tlb.FlushScope.KernelHalf);
        AfterCpaFlush?.Invoke(cpa);
    }

    /// <summary>
    /// __set_pages_p / __set_pages_np as set_direct_map_default_noflush and
    /// set_direct_map_invalid_noflush use them: one direct-map page, the masks as given (no
    /// canon_pgprot), __change_page_attr_set_clr(&amp;cpa, 0) (no alias, not primary), and
    /// no flush (the caller flushes).
    /// </summary>
    public int set_direct_map_noflush(ulong addr, ulong set, ulong clr)
    {
        Calls++;
        var cpa = new CpaData { Vaddr = [addr], NumPages = 1, MaskSet = set, MaskClr = clr };
        return __change_page_attr_set_clr(cpa, primary: false);
    }

    /// <summary>cpa_flush_all: on error, flush everything.</summary>
    private void cpa_flush_all() => k.Tlbs.flush_tlb_all();
}
