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

    private bool CopyPageRange(MmStruct child, Vma v)
    {
        bool cow = (v.Flags & (VmFlags.VM_SHARED | VmFlags.VM_MAYWRITE)) == VmFlags.VM_MAYWRITE;
        foreach (var (addr, entry, present) in PresentPtes(v.Start, v.End))
        {
            ulong pte = present;
            var slot = child.PteAlloc(addr);
            if (slot is not { } s)
                return false;
            if (!pte_special(pte))
            {
                long pfn = pte_pfn(pte);
                _k.Buddy.GetPage(pfn);
                Frames[pfn].MapCount++;
                if (cow && pte_write(pte))
                {
                    pte &= ~_PAGE_RW;
                    SetPte(entry, pte);
                }
                child.AddRss(1);
            }
            child.SetPte(s, pte & ~_PAGE_ACCESSED);
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
            UnaccountVma(v);
        _vmas.Clear();
        _k.DropMmFromTlbs(this);
        PgdFree();
    }
}
