using KernelMm.Model.Paging;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Mm;

/// <summary>dup_mmap (fork) and exit_mmap.</summary>
public sealed partial class MmStruct
{
    /// <summary>
    /// dup_mmap into <paramref name="child"/>: every VMA is copied; page tables are copied
    /// only for VMAs with an anon_vma (copy_page_range). Anonymous pages become shared
    /// copy-on-write: one more reference and mapping, write-protected in both mms; the zero
    /// page is copied as it is. The parent's TLB is flushed (flush_tlb_mm).
    /// Returns false when memory ran out.
    /// </summary>
    internal bool DupMmap(MmStruct child)
    {
        foreach (var v in _vmas)
        {
            // dup_mmap charges each VM_ACCOUNT VMA again, asking for the parent's mm.
            if ((v.Flags & VmFlags.VM_ACCOUNT) != 0 && !_k.SecurityVmEnoughMemoryMm(this, (long)(v.Length >> PAGE_SHIFT)))
                return false;
            var cv = new Vma(v.Start, v.End, v.Flags) { AnonVma = v.AnonVma == 0 ? 0 : child._nextAnonVma++ };
            child._vmas.Add(cv);
            if (v.AnonVma == 0)
                continue;
            if (!CopyPageRange(child, v))
                return false;
        }
        child.NoteVm();
        _k.FlushTlbMm(this);
        return true;
    }

    /// <summary>
    /// copy_page_range of one VMA, level by level as mm/memory.c (5.x) walks it: a parent
    /// pgd entry that is not none gives the child its PUD table (copy_pud_range's
    /// pud_alloc), a parent PUD entry its PMD table (copy_pmd_range's pmd_alloc, before any
    /// PMD entry is looked at), a parent PMD entry its PTE table (copy_pte_range's
    /// pte_alloc_map_lock, before any PTE is looked at). So the child gets a table wherever
    /// the parent has one in the VMA, even one whose entries are all none (after
    /// MADV_DONTNEED, or a munmap that left the table to a neighbour's floor).
    /// </summary>
    private bool CopyPageRange(MmStruct child, Vma v)
    {
        bool cow = (v.Flags & (VmFlags.VM_SHARED | VmFlags.VM_MAYWRITE)) == VmFlags.VM_MAYWRITE;
        var pgd = _k.Tables[Pgd];
        for (ulong addr = v.Start, next; addr != v.End; addr = next)
        {
            next = AddrEnd(addr, v.End, PGDIR_SIZE);
            ulong g = pgd[pgd_index(addr)];
            if (pgd_none(g))
                continue;
            if (!CopyPudRange(child, pte_pfn(g), addr, next, cow))
                return false;
        }
        return true;
    }

    private bool CopyPudRange(MmStruct child, long srcPud, ulong addr, ulong end, bool cow)
    {
        long dstPud = child.PudAlloc(addr);
        if (dstPud < 0)
            return false;
        var src = _k.Tables[srcPud];
        for (ulong next; addr != end; addr = next)
        {
            next = AddrEnd(addr, end, PUD_SIZE);
            ulong u = src[pud_index(addr)];
            if (pud_none(u))
                continue;
            if (!CopyPmdRange(child, dstPud, pud_pfn(u), addr, next, cow))
                return false;
        }
        return true;
    }

    private bool CopyPmdRange(MmStruct child, long dstPud, long srcPmd, ulong addr, ulong end, bool cow)
    {
        long dstPmd = child.PmdAlloc(dstPud, addr);
        if (dstPmd < 0)
            return false;
        var src = _k.Tables[srcPmd];
        for (ulong next; addr != end; addr = next)
        {
            next = AddrEnd(addr, end, PMD_SIZE);
            ulong m = src[pmd_index(addr)];
            if (pmd_none(m))
                continue;
            if (!CopyPteRange(child, dstPmd, pmd_pfn(m), addr, next, cow))
                return false;
        }
        return true;
    }

    /// <summary>copy_pte_range: the child's PTE table first, then every entry that is not none (copy_present_pte).</summary>
    private bool CopyPteRange(MmStruct child, long dstPmd, long srcPte, ulong addr, ulong end, bool cow)
    {
        long dstPte = child.PteAllocIn(dstPmd, addr);
        if (dstPte < 0)
            return false;
        var ptes = _k.Tables[srcPte];
        int last = pte_index(end - 1);
        for (int i = ptes.NextUsed(pte_index(addr)); i <= last; i = ptes.NextUsed(i + 1))
        {
            ulong pte = ptes[i];
            if (!pte_special(pte))
            {
                long pfn = pte_pfn(pte);
                _k.Buddy.GetPage(pfn);
                Frames[pfn].MapCount++;
                if (cow && pte_write(pte))
                {
                    pte &= ~_PAGE_RW;
                    SetPte(new EntryRef(srcPte, i, PageLevel.PG_LEVEL_4K), pte);
                }
                child.AddRss(1);
            }
            child.SetPte(new EntryRef(dstPte, i, PageLevel.PG_LEVEL_4K), pte & ~_PAGE_ACCESSED);
        }
        return true;
    }

    /// <summary>
    /// exit_mmap: zap every VMA, free every user page table (floor 0, no ceiling), flush,
    /// free the gathered pages and tables, then the pgd.
    /// </summary>
    internal void ExitMmap()
    {
        if (TornDown)
            return;
        TornDown = true;
        var tlb = new MmuGather(_k, this);
        foreach (var v in _vmas)
            ZapRange(tlb, v.Start, v.End, ZapCaller.ExitMmap);
        FreePgtables(tlb, _vmas, 0, 0);
        tlb.Finish();
        foreach (var v in _vmas)
        {
            UnaccountVma(v);
            UnlockVma(v);
        }
        _vmas.Clear();
        _k.DropMmFromTlbs(this);
        PgdFree();
    }
}
