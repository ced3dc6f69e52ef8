using KernelMm.Model.Paging;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Mm;

/// <summary>mremap (mm/mremap.c, 5.x): shrink, grow in place, or move the VMA and its page tables.</summary>
public sealed partial class MmStruct
{
    /// <summary>
    /// sys_mremap: a shrink unmaps the tail; a grow extends the VMA in place when the gap
    /// after it allows, else (with MREMAP_MAYMOVE) moves it to a new gap; MREMAP_FIXED moves
    /// it to <paramref name="newAddr"/>, unmapping what was there first. A grow of a
    /// VM_ACCOUNT mapping is charged (vma_to_resize); a VM_LOCKED one is populated.
    /// Returns the mapping's address.
    /// </summary>
    internal ulong Mremap(ulong addr, long oldLength, long newLength, MremapFlags flags, ulong? newAddr)
    {
        if ((flags & ~(MremapFlags.MayMove | MremapFlags.Fixed)) != 0)
            throw new KernelErrnoException("mremap", Errno.EINVAL, $"unknown flags 0x{(int)flags:x}");
        if ((flags & MremapFlags.Fixed) != 0 && (flags & MremapFlags.MayMove) == 0)
            throw new KernelErrnoException("mremap", Errno.EINVAL, "MREMAP_FIXED without MREMAP_MAYMOVE");
        if ((flags & MremapFlags.Fixed) != 0 != newAddr.HasValue)
            throw new KernelErrnoException("mremap", Errno.EINVAL, "a new address goes with MREMAP_FIXED, and only with it");
        if ((addr & ~PAGE_MASK) != 0 || oldLength < 0 || newLength < 0)
            throw new KernelErrnoException("mremap", Errno.EINVAL, $"0x{addr:x}, {oldLength}, {newLength}");
        ulong oldLen = PageAlign((ulong)oldLength), newLen = PageAlign((ulong)newLength);
        if (newLen == 0)
            throw new KernelErrnoException("mremap", Errno.EINVAL, "new length 0");
        if (oldLen == 0)
            throw new KernelErrnoException("mremap", Errno.EINVAL, "old length 0 duplicates only shared mappings");
        if (newAddr is { } to)
            return MremapTo(addr, oldLen, to, newLen);

        // Always allow a shrinking remap.
        if (oldLen >= newLen)
        {
            if (oldLen != newLen)
                DoMunmap(addr + newLen, oldLen - newLen);
            return addr;
        }
        var vma = VmaToResize(addr, oldLen, newLen, out long charged);
        try
        {
            // old_len exactly to the end of the area: can we just expand the current mapping?
            if (oldLen == vma.End - addr && VmaExpandable(vma, newLen - oldLen))
            {
                vma.End = addr + newLen;
                NoteVm();
                charged = 0; // kept: the VMA is larger
                long pages = (long)((newLen - oldLen) >> PAGE_SHIFT);
                if ((vma.Flags & VmFlags.VM_LOCKED) != 0)
                {
                    LockedVm += pages;
                    MmPopulate(addr + oldLen, newLen - oldLen);
                }
                return addr;
            }
            if ((flags & MremapFlags.MayMove) == 0)
                throw new KernelErrnoException("mremap", Errno.ENOMEM, $"0x{addr:x} cannot grow in place and MREMAP_MAYMOVE is not set");
            ulong dest = GetUnmappedAreaTopdown(newLen) ?? throw new KernelErrnoException("mremap", Errno.ENOMEM, $"no gap of {newLen >> 10} kB");
            charged = 0; // the new VMA holds it now
            return MoveVma(vma, addr, oldLen, newLen, dest);
        }
        finally
        {
            if (charged != 0)
                _k.Overcommit.VmUnacctMemory(charged);
        }
    }

    /// <summary>mremap_to: the checks of a MREMAP_FIXED move, the destination unmapped, a shrink first, then move_vma.</summary>
    private ulong MremapTo(ulong addr, ulong oldLen, ulong newAddr, ulong newLen)
    {
        if ((newAddr & ~PAGE_MASK) != 0)
            throw new KernelErrnoException("mremap", Errno.EINVAL, $"new address 0x{newAddr:x} is not page aligned");
        if (newLen > KernelLayout.TASK_SIZE_MAX || newAddr > KernelLayout.TASK_SIZE_MAX - newLen)
            throw new KernelErrnoException("mremap", Errno.EINVAL, $"0x{newAddr:x}+{newLen:x} is outside the user address space");
        if (addr + oldLen > newAddr && newAddr + newLen > addr)
            throw new KernelErrnoException("mremap", Errno.EINVAL, "the old and new ranges overlap");
        DoMunmap(newAddr, newLen);
        if (oldLen >= newLen)
        {
            if (oldLen != newLen)
                DoMunmap(addr + newLen, oldLen - newLen);
            oldLen = newLen;
        }
        var vma = VmaToResize(addr, oldLen, newLen, out long charged);
        try
        {
            ulong moved = MoveVma(vma, addr, oldLen, newLen, newAddr);
            charged = 0;
            return moved;
        }
        finally
        {
            if (charged != 0)
                _k.Overcommit.VmUnacctMemory(charged);
        }
    }

    /// <summary>
    /// vma_to_resize: the VMA must hold [addr, addr+old_len) (EFAULT otherwise); a grow of a
    /// VM_ACCOUNT VMA is charged (ENOMEM when the policy refuses).
    /// </summary>
    private Vma VmaToResize(ulong addr, ulong oldLen, ulong newLen, out long charged)
    {
        charged = 0;
        var vma = FindVma(addr);
        if (vma is null || vma.Start > addr)
            throw new KernelErrnoException("mremap", Errno.EFAULT, $"0x{addr:x} is not mapped");
        if (oldLen > vma.End - addr)
            throw new KernelErrnoException("mremap", Errno.EFAULT, $"0x{addr:x}+{oldLen:x} crosses the end of its VMA");
        if (newLen > oldLen && (vma.Flags & VmFlags.VM_ACCOUNT) != 0)
        {
            long pages = (long)((newLen - oldLen) >> PAGE_SHIFT);
            if (!_k.SecurityVmEnoughMemoryMm(this, pages))
                throw new KernelErrnoException("mremap", Errno.ENOMEM, $"{pages << 2} kB more is beyond the overcommit policy");
            charged = pages;
        }
        return vma;
    }

    /// <summary>vma_expandable: the next VMA starts at or after the new end, which stays in user space.</summary>
    private bool VmaExpandable(Vma vma, ulong delta)
    {
        ulong end = vma.End + delta;
        if (end < vma.End || end > KernelLayout.TASK_SIZE_MAX)
            return false;
        int i = IndexOf(vma);
        return i + 1 >= _vmas.Count || _vmas[i + 1].Start >= end;
    }

    /// <summary>
    /// move_vma: copy_vma makes the new VMA (merged with a neighbour where it can),
    /// move_page_tables moves the entries, then the old range is unmapped with its
    /// VM_ACCOUNT concealed (the charge moves with the VMA) and locked_vm moves too.
    /// </summary>
    private ulong MoveVma(Vma vma, ulong oldAddr, ulong oldLen, ulong newLen, ulong newAddr)
    {
        var newVma = new Vma(newAddr, newAddr + newLen, vma.Flags) { AnonVma = vma.AnonVma };
        long hiwaterVm = HiwaterVm;
        InsertVma(newVma);
        ulong moved = MovePageTables(oldAddr, newAddr, oldLen);
        if (moved < oldLen)
        {
            // Out of memory for a table: move back what moved, and unmap the new area instead.
            MovePageTables(newAddr, oldAddr, moved);
            HiwaterVm = hiwaterVm;
            DoMunmap(newAddr, newLen);
            throw new KernelErrnoException("mremap", Errno.ENOMEM, "move_page_tables could not allocate a table");
        }
        TryMerge(newVma);
        DoMunmap(oldAddr, oldLen, uncharge: false);
        if ((vma.Flags & VmFlags.VM_LOCKED) != 0)
        {
            LockedVm += (long)(newLen >> PAGE_SHIFT);
            if (newLen > oldLen)
                MmPopulate(newAddr + oldLen, newLen - oldLen);
        }
        HiwaterVm = Math.Max(hiwaterVm, TotalVm);
        return newAddr;
    }

    /// <summary>
    /// move_page_tables: PMD by PMD. Where source and destination are both PMD-aligned and a
    /// whole PMD is to move, move_normal_pmd moves the PTE table itself (one PMD entry; the
    /// table and its count stay as they are); else move_ptes moves the entries one by one
    /// into a destination table. A missing source PMD moves nothing. Returns the bytes moved.
    /// </summary>
    private ulong MovePageTables(ulong oldAddr, ulong newAddr, ulong len)
    {
        ulong oldEnd = oldAddr + len, start = oldAddr;
        for (ulong extent; oldAddr < oldEnd; oldAddr += extent, newAddr += extent)
        {
            _k.CountOperation();
            extent = Math.Min(((oldAddr + PMD_SIZE) & PMD_MASK) - oldAddr, oldEnd - oldAddr);
            if (GetOldPmd(oldAddr) is not { } oldPmd)
                continue;
            if (PmdAlloc(newAddr) is not { } newPmd)
                break;
            if (extent == PMD_SIZE && MoveNormalPmd(oldAddr, newAddr, oldPmd, newPmd))
                continue;
            ulong next = ((newAddr + PMD_SIZE) & PMD_MASK) - newAddr;
            extent = Math.Min(extent, next);
            if (!MovePtes(oldAddr, oldAddr + extent, newAddr))
                break;
        }
        return oldAddr - start;
    }

    /// <summary>move_normal_pmd: the PMD entry itself moves when both ends are aligned and the destination entry is none (WARN_ON otherwise).</summary>
    private bool MoveNormalPmd(ulong oldAddr, ulong newAddr, EntryRef oldPmd, EntryRef newPmd)
    {
        if ((oldAddr & ~PMD_MASK) != 0 || (newAddr & ~PMD_MASK) != 0)
            return false;
        var newTable = _k.Tables[newPmd.TablePfn];
        if (!pmd_none(newTable[newPmd.Index]))
        {
            // free_pgtables should have released it; 5.x warns and falls back to moving PTEs.
            _k.Log.Warn("mremap", $"WARNING: at mm/mremap.c move_normal_pmd: WARN_ON(!pmd_none(*new_pmd)) ({Owner}, new address 0x{newAddr:x})");
            return false;
        }
        var oldTable = _k.Tables[oldPmd.TablePfn];
        ulong pmd = oldTable[oldPmd.Index];
        oldTable[oldPmd.Index] = 0;
        newTable[newPmd.Index] = pmd;
        _k.FlushTlbMmRange(this, oldAddr, oldAddr + PMD_SIZE);
        return true;
    }

    /// <summary>move_ptes: each entry is cleared at the old address and set at the new one; the TLB is flushed if a present one moved.</summary>
    private bool MovePtes(ulong oldAddr, ulong oldEnd, ulong newAddr)
    {
        bool flush = false;
        // pte_alloc of the destination comes first, even for a source table with nothing in it.
        if (PteAlloc(newAddr) is not { } first)
            return false;
        var moves = PresentPtes(oldAddr, oldEnd).ToList();
        foreach (var (addr, slot, pte) in moves)
        {
            SetPte(slot, 0);
            SetPte(first with { Index = pte_index(newAddr + (addr - oldAddr)) }, pte);
            flush |= pte_present(pte);
        }
        if (flush)
            _k.FlushTlbMmRange(this, oldAddr, oldEnd);
        return true;
    }
}
