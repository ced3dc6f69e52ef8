using KernelMm.Model.Memory;
using KernelMm.Model.Stats;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Mm;

/// <summary>mmap, munmap, mprotect and madvise of anonymous private memory (mm/mmap.c, mm/mprotect.c, mm/madvise.c).</summary>
public sealed partial class MmStruct
{
    private static ulong PageAlign(ulong len) => (len + PAGE_SIZE - 1) & PAGE_MASK;

    /// <summary>
    /// do_mmap of MAP_PRIVATE|MAP_ANONYMOUS: placed top-down below mmap_base, or at
    /// <paramref name="at"/> with MAP_FIXED (replacing what was there) or MAP_FIXED_NOREPLACE
    /// (EEXIST if anything is there). mmap_region then charges a private writable mapping
    /// to vm_committed_as (VM_ACCOUNT) unless MAP_NORESERVE made it VM_NORESERVE, merges it
    /// with a neighbour of the same flags, and MAP_POPULATE / MAP_LOCKED prefault it
    /// (mm_populate).
    /// </summary>
    internal ulong Mmap(long length, Prot prot, ulong? at, MapFlags mapFlags = MapFlags.None)
    {
        const MapFlags known = MapFlags.Locked | MapFlags.NoReserve | MapFlags.Populate | MapFlags.FixedNoReplace;
        if ((mapFlags & ~known) != 0)
            throw new KernelErrnoException("mmap", Errno.EINVAL, $"unknown flags 0x{(int)(mapFlags & ~known):x}");
        if (length <= 0)
            throw new KernelErrnoException("mmap", Errno.EINVAL, $"length {length}");
        ulong len = PageAlign((ulong)length);
        if (len == 0 || len > KernelLayout.TASK_SIZE_MAX)
            throw new KernelErrnoException("mmap", Errno.ENOMEM, $"length {length}");
        bool noReplace = (mapFlags & MapFlags.FixedNoReplace) != 0;
        if (noReplace && at is null)
            throw new KernelErrnoException("mmap", Errno.EINVAL, "MapFlags.FixedNoReplace needs an address (at:)");
        var flags = VmPageProt.FromProt(prot);
        // do_mmap: MAP_NORESERVE is honoured unless overcommit is never.
        if ((mapFlags & MapFlags.NoReserve) != 0 && _k.Overcommit.Policy != OvercommitPolicy.OVERCOMMIT_NEVER)
            flags |= VmFlags.VM_NORESERVE;
        if ((mapFlags & MapFlags.Locked) != 0)
            flags |= VmFlags.VM_LOCKED;

        ulong addr;
        if (at is { } fixedAddr)
        {
            if ((fixedAddr & ~PAGE_MASK) != 0)
                throw new KernelErrnoException("mmap", Errno.EINVAL, $"MAP_FIXED address 0x{fixedAddr:x} is not page aligned");
            if (fixedAddr < MMAP_MIN_ADDR || fixedAddr + len > KernelLayout.TASK_SIZE_MAX || fixedAddr + len < fixedAddr)
                throw new KernelErrnoException("mmap", Errno.ENOMEM, $"0x{fixedAddr:x}+{len:x} is outside the user address space");
            addr = fixedAddr;
            if (noReplace && FindVma(addr) is { } there && there.Start < addr + len)
                throw new KernelErrnoException("mmap", Errno.EEXIST, $"MAP_FIXED_NOREPLACE: 0x{there.Start:x}-0x{there.End:x} is mapped");
            // mmap_region: the old mappings go first (munmap_vma_range), then the charge.
            DoMunmap(addr, len);
        }
        else
        {
            addr = GetUnmappedAreaTopdown(len) ?? throw new KernelErrnoException("mmap", Errno.ENOMEM, $"no gap of {len >> 10} kB");
        }
        if (AccountableMapping(flags))
        {
            if (!_k.SecurityVmEnoughMemoryMm(this, (long)(len >> PAGE_SHIFT)))
                throw new KernelErrnoException("mmap", Errno.ENOMEM, $"{len >> 10} kB is more than the overcommit policy (vm.overcommit_memory={(int)_k.Overcommit.Policy}) allows");
            flags |= VmFlags.VM_ACCOUNT;
        }
        MmapRegion(addr, len, flags);
        if ((flags & VmFlags.VM_LOCKED) != 0)
            LockedVm += (long)(len >> PAGE_SHIFT);
        if ((flags & VmFlags.VM_LOCKED) != 0 || (mapFlags & MapFlags.Populate) != 0)
            MmPopulate(addr, len);
        return addr;
    }

    /// <summary>accountable_mapping for anonymous memory: private, writable and not VM_NORESERVE.</summary>
    private static bool AccountableMapping(VmFlags flags) =>
        (flags & (VmFlags.VM_NORESERVE | VmFlags.VM_SHARED | VmFlags.VM_WRITE)) == VmFlags.VM_WRITE;

    /// <summary>vm_unacct_memory of a VMA's pages if it is VM_ACCOUNT (remove_vma_list, exit_mmap).</summary>
    private void UnaccountVma(Vma v)
    {
        if ((v.Flags & VmFlags.VM_ACCOUNT) != 0)
            _k.Overcommit.VmUnacctMemory((long)(v.Length >> PAGE_SHIFT));
    }

    /// <summary>
    /// __mm_populate over [start, start+len): populate_vma_page_range of each VMA that has
    /// some access (get_user_pages faults without the TLB): a write fault per page of a
    /// private writable VMA, else a read fault (the zero page). Faults count in pgfault and
    /// min_flt; an out-of-memory fault ends that VMA's population (errors are ignored).
    /// </summary>
    internal void MmPopulate(ulong start, ulong len)
    {
        ulong end = start + len;
        for (ulong a = start; a < end;)
        {
            var v = FindVma(a);
            if (v is null || v.Start >= end)
                return;
            ulong s = Math.Max(a, v.Start), e = Math.Min(end, v.End);
            a = e;
            if ((v.Flags & (VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_EXEC)) == 0)
                continue;
            bool write = (v.Flags & (VmFlags.VM_WRITE | VmFlags.VM_SHARED)) == VmFlags.VM_WRITE;
            for (ulong p = s; p < e; p += PAGE_SIZE)
            {
                _k.CountOperation();
                long table = PteTableOf(p);
                if (table >= 0)
                {
                    ulong pte = _k.Tables[table][pte_index(p)];
                    if (pte_present(pte) && (!write || pte_write(pte)))
                        continue; // follow_page_mask finds it: no fault
                }
                if (!HandleMmFault(v, p, write))
                    break;
            }
        }
    }

    /// <summary>arch_get_unmapped_area_topdown: the highest gap below mmap_base that fits.</summary>
    private ulong? GetUnmappedAreaTopdown(ulong len)
    {
        ulong high = MMAP_BASE;
        for (int i = _vmas.Count - 1; i >= 0; i--)
        {
            var v = _vmas[i];
            if (v.Start >= high)
                continue;
            if (v.End < high && high - v.End >= len)
                return high - len;
            high = v.Start;
        }
        return high >= MMAP_MIN_ADDR + len ? high - len : null;
    }

    /// <summary>The stack VMA of execve (VM_GROWSDOWN; never merged).</summary>
    /// <remarks>VM_STACK_FLAGS include VM_ACCOUNT: insert_vm_struct and the growth in setup_arg_pages charge its pages.</remarks>
    internal void InsertStack(ulong start, ulong end)
    {
        if (!_k.SecurityVmEnoughMemoryMm(this, (long)((end - start) >> PAGE_SHIFT)))
            throw new KernelErrnoException("execve", Errno.ENOMEM, "the stack is more than the overcommit policy allows");
        InsertVma(new Vma(start, end, VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE | VmFlags.VM_MAYEXEC | VmFlags.VM_STACK | VmFlags.VM_ACCOUNT));
    }

    /// <summary>mmap_region: a new VMA, or an extension of a neighbour with the same flags (vma_merge).</summary>
    private void MmapRegion(ulong addr, ulong len, VmFlags flags)
    {
        var v = new Vma(addr, addr + len, flags);
        InsertVma(v);
        TryMerge(v);
    }

    /// <summary>
    /// vma_merge (mm/mmap.c, 5.x) for a range that became <paramref name="v"/>: the
    /// predecessor is tried first (can_vma_merge_after); if it takes the range, the
    /// successor joins too only when its anon_vma is compatible with the predecessor's
    /// (is_mergeable_anon_vma(prev->anon_vma, next->anon_vma), cases 1 and 6), else the
    /// predecessor alone grows (cases 2, 5, 7). Only when the predecessor cannot take the
    /// range is it merged in front of the successor (cases 3, 8). So a new mapping between
    /// two anonymous VMAs with different anon_vmas joins the previous one.
    /// </summary>
    private void TryMerge(Vma v)
    {
        int i = IndexOf(v);
        var prev = i > 0 ? _vmas[i - 1] : null;
        var next = i + 1 < _vmas.Count ? _vmas[i + 1] : null;
        if (prev is not null && Mergeable(prev, v))
        {
            prev.AnonVma = prev.AnonVma != 0 ? prev.AnonVma : v.AnonVma;
            if (next is not null && Mergeable(v, next) && AnonVmaMergeable(prev.AnonVma, next.AnonVma))
            {
                prev.End = next.End;
                prev.AnonVma = prev.AnonVma != 0 ? prev.AnonVma : next.AnonVma;
                _vmas.RemoveRange(i, 2);
            }
            else
            {
                prev.End = v.End;
                _vmas.RemoveAt(i);
            }
            return;
        }
        if (next is not null && Mergeable(v, next))
        {
            v.End = next.End;
            v.AnonVma = v.AnonVma != 0 ? v.AnonVma : next.AnonVma;
            _vmas.RemoveAt(i + 1);
        }
    }

    /// <summary>is_mergeable_anon_vma: either is unset, or they are the same.</summary>
    private static bool AnonVmaMergeable(int a, int b) => a == 0 || b == 0 || a == b;

    private static bool Mergeable(Vma a, Vma b) =>
        a.End == b.Start && a.Flags == b.Flags && AnonVmaMergeable(a.AnonVma, b.AnonVma)
        && (a.Flags & VmFlags.VM_STACK) == 0;

    /// <summary>munmap: EINVAL for an unaligned address, a zero length or a range outside user space.</summary>
    internal void Munmap(ulong addr, long length)
    {
        if ((addr & ~PAGE_MASK) != 0 || length <= 0)
            throw new KernelErrnoException("munmap", Errno.EINVAL, $"0x{addr:x}, {length}");
        ulong len = PageAlign((ulong)length);
        if (addr + len > KernelLayout.TASK_SIZE_MAX || addr + len < addr)
            throw new KernelErrnoException("munmap", Errno.EINVAL, $"0x{addr:x}+{len:x} is outside the user address space");
        DoMunmap(addr, len);
    }

    /// <summary>Splits the VMA containing <paramref name="addr"/> so that a VMA starts there (__split_vma).</summary>
    private void SplitAt(ulong addr)
    {
        var v = FindVma(addr);
        if (v is null || v.Start >= addr)
            return;
        var tail = new Vma(addr, v.End, v.Flags) { AnonVma = v.AnonVma };
        v.End = addr;
        _vmas.Insert(IndexOf(v) + 1, tail);
    }

    /// <summary>
    /// do_munmap: split at both ends, detach the VMAs, zap their pages and free the page
    /// tables between the previous VMA's end and the next VMA's start (unmap_region).
    /// </summary>
    /// <remarks><paramref name="uncharge"/> is false for mremap's old range, whose VM_ACCOUNT move_vma conceals: the new VMA carries the charge.</remarks>
    private void DoMunmap(ulong start, ulong len, bool uncharge = true)
    {
        ulong end = start + len;
        var first = FindVma(start);
        if (first is null || first.Start >= end)
            return;
        SplitAt(start);
        SplitAt(end);
        var detached = _vmas.Where(v => v.Start >= start && v.End <= end).ToList();
        foreach (var v in detached)
        {
            if (uncharge)
                UnaccountVma(v);
            UnlockVma(v);
        }
        int firstIndex = IndexOf(detached[0]);
        var prev = firstIndex > 0 ? _vmas[firstIndex - 1] : null;
        int lastIndex = IndexOf(detached[^1]);
        var next = lastIndex + 1 < _vmas.Count ? _vmas[lastIndex + 1] : null;
        _vmas.RemoveRange(firstIndex, detached.Count);

        var tlb = new MmuGather(_k, this);
        foreach (var v in detached)
            ZapRange(tlb, v.Start, v.End, ZapCaller.Munmap);
        FreePgtables(tlb, detached, prev?.End ?? 0, next?.Start ?? 0);
        tlb.Finish();
    }

    /// <summary>
    /// zap_pte_range over [start, end), one PTE table at a time: each present entry is
    /// cleared; a normal page loses its mapping and its RSS count and goes to the gather (the
    /// zero page does neither). After each table the <see cref="PageTableHooks.PteTableZapped"/>
    /// seam may have the table freed into the same gather.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private void ZapRange(MmuGather tlb, ulong start, ulong end, ZapCaller caller)
    {
        var zapped = _k.PageTableHooks.PteTableZapped;
        var changed = _k.PageTableHooks.UserPteChanged;
        for (ulong addr = start; addr < end;)
        {
            ulong pmdEnd = Math.Min((addr & PMD_MASK) + PMD_SIZE, end);
            long ptePfn = PteTableOf(addr);
            if (ptePfn < 0)
            {
                addr = pmdEnd;
                continue;
            }
            var ptes = _k.Tables[ptePfn];
            ulong tableBase = addr & PMD_MASK;
            int last = pte_index(pmdEnd - 1);
            // The table's RSS change and flush range are summed and applied once, as
            // zap_pte_range does with its rss[] (add_mm_rss_vec) and __tlb_adjust_range: a hook
            // called inside the loop sees the RSS of before the table, as the kernel's would.
            long rss = 0;
            int first = -1, lastZapped = -1;
            // Only the entries that are not none have anything to zap.
            // ptep_get_and_clear_full of each entry that is not none, then the seam set_pte would call.
            for (int i = ptes.ClearNextUsed(pte_index(addr), last, out ulong pte); i <= last; i = ptes.ClearNextUsed(i + 1, last, out pte))
            {
                changed?.Invoke(this, ptePfn, pte, 0);
                if (first < 0)
                    first = i;
                lastZapped = i;
                if (pte_special(pte))
                    continue;
                long pfn = pte_pfn(pte);
                // zap_pte_range (5.x) moves a dirty pte into PG_dirty only for a page that is
                // not anonymous (set_page_dirty); an anonymous page's dirtiness dies with it.
                ref var page = ref Frames[pfn];
                if (pte_dirty(pte) && !page.Has(PageFlags.PG_anon))
                    page.Flags |= PageFlags.PG_dirty;
                PageRemoveRmap(ref page);
                rss--;
                tlb.RemovePage(pfn);
            }
            if (rss != 0)
                AddRss(rss);
            if (first >= 0)
                tlb.TrackRange(tableBase + ((ulong)first << PAGE_SHIFT), tableBase + ((ulong)(lastZapped + 1) << PAGE_SHIFT));
            if (zapped is not null && zapped(this, new PteTableZap(caller, Math.Max(start, tableBase), pmdEnd, ptePfn, AnySkipped: false)))
                FreePte(tlb, tableBase, ptePfn);
            addr = pmdEnd;
        }
    }

    /// <summary>
    /// free_pte (mm/pt_reclaim.c) after the PMD entry of <paramref name="tableBase"/> is
    /// cleared: the table goes to the zap's gather (pte_free_tlb, freed after the flush) and
    /// leaves mm_pgtables_bytes at once (mm_dec_nr_ptes).
    /// </summary>
    private void FreePte(MmuGather tlb, ulong tableBase, long ptePfn)
    {
        var pud = _k.Tables[pte_pfn(_k.Tables[Pgd][pgd_index(tableBase)])];
        var pmd = _k.Tables[pud_pfn(pud[pud_index(tableBase)])];
        pmd[pmd_index(tableBase)] = 0;
        UnlinkUserTable(ptePfn, Paging.PageLevel.PG_LEVEL_4K);
        tlb.RemoveTable(ptePfn, tableBase, PMD_SIZE);
    }

    /// <summary>
    /// do_mprotect_pkey (mm/mprotect.c, 5.x): VMA by VMA from the one holding
    /// <paramref name="start"/>, each through <see cref="MprotectFixup"/>. ENOMEM when
    /// <paramref name="start"/> is not mapped (nothing changed) and at the first hole after
    /// it (the VMAs before the hole keep their new protection: there is no undo); a refused
    /// commit charge stops it the same way. EINVAL for an unaligned start or PROT_* bits
    /// arch_validate_prot does not know; EACCES for a protection the VMA's VM_MAY* bits lack.
    /// </summary>
    internal void Mprotect(ulong start, long length, Prot prot)
    {
        if ((start & ~PAGE_MASK) != 0 || length < 0)
            throw new KernelErrnoException("mprotect", Errno.EINVAL, $"0x{start:x}, {length}");
        // arch_validate_prot (include/linux/mman.h, the generic one x86 uses): PROT_READ,
        // PROT_WRITE, PROT_EXEC and PROT_SEM only.
        if (((int)prot & ~(int)(Prot.Read | Prot.Write | Prot.Exec | ProtSem)) != 0)
            throw new KernelErrnoException("mprotect", Errno.EINVAL, $"unknown PROT_* bits 0x{(int)prot & ~0xf:x}");
        if (length == 0)
            return;
        ulong end = start + PageAlign((ulong)length);
        if (end <= start)
            throw new KernelErrnoException("mprotect", Errno.ENOMEM, $"0x{start:x}+{length:x} wraps");
        var vma = FindVma(start);
        if (vma is null || vma.Start > start)
            throw new KernelErrnoException("mprotect", Errno.ENOMEM, $"0x{start:x} is not mapped");
        var vmFlags = VmPageProt.FromProt(prot & (Prot.Read | Prot.Write | Prot.Exec)) & VmAccessFlags;
        for (ulong nstart = start; ;)
        {
            // Each call passes all of r/w/x: what it does not pass is cleared; every other
            // flag (VM_MAY*, VM_ACCOUNT, VM_LOCKED, VM_NORESERVE, VM_GROWSDOWN) is kept.
            var newFlags = vmFlags | (vma.Flags & ~VmAccessFlags);
            // newflags >> 4 puts VM_MAY* in place of VM_*.
            if (((uint)newFlags & ~((uint)newFlags >> 4) & (uint)VmAccessFlags) != 0)
                throw new KernelErrnoException("mprotect", Errno.EACCES, $"0x{vma.Start:x}-0x{vma.End:x} may not become {prot}");
            ulong tmp = Math.Min(vma.End, end);
            var prev = MprotectFixup(vma, nstart, tmp, newFlags);
            nstart = Math.Max(tmp, prev.End);
            if (nstart >= end)
                return;
            int next = IndexOf(prev) + 1;
            if (next == _vmas.Count || _vmas[next].Start != nstart)
                throw new KernelErrnoException("mprotect", Errno.ENOMEM, $"0x{nstart:x} is not mapped (0x{start:x}-0x{nstart:x} was changed)");
            vma = _vmas[next];
        }
    }

    /// <summary>PROT_SEM (0x8): accepted by mprotect, meaningless on x86.</summary>
    private const Prot ProtSem = (Prot)0x8;

    private const VmFlags VmAccessFlags = VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_EXEC;

    /// <summary>
    /// mprotect_fixup (mm/mprotect.c, 5.x) of [start, end) inside <paramref name="vma"/>:
    /// nothing when the flags do not change; a private mapping that becomes writable for
    /// the first time (none of VM_ACCOUNT, VM_WRITE, VM_SHARED, VM_NORESERVE) is charged
    /// to vm_committed_as through security_vm_enough_memory_mm and gets VM_ACCOUNT (ENOMEM
    /// if the policy refuses; made read-only again it keeps the charge); then split, the
    /// new flags, change_protection (flushed only if an entry changed), vma_merge, and a
    /// VM_LOCKED private mapping made writable is populated (its COW broken at once).
    /// Returns the VMA now holding the range (the kernel's *pprev).
    /// </summary>
    private Vma MprotectFixup(Vma vma, ulong start, ulong end, VmFlags newFlags)
    {
        var oldFlags = vma.Flags;
        if (newFlags == oldFlags)
            return vma;
        if ((newFlags & VmFlags.VM_WRITE) != 0
            && (oldFlags & (VmFlags.VM_ACCOUNT | VmFlags.VM_WRITE | VmFlags.VM_SHARED | VmFlags.VM_NORESERVE)) == 0)
        {
            long charged = (long)((end - start) >> PAGE_SHIFT);
            if (!_k.SecurityVmEnoughMemoryMm(this, charged))
                throw new KernelErrnoException("mprotect", Errno.ENOMEM, $"making 0x{start:x}-0x{end:x} writable commits {charged << 2} kB, more than the overcommit policy (vm.overcommit_memory={(int)_k.Overcommit.Policy}) allows");
            newFlags |= VmFlags.VM_ACCOUNT;
        }
        SplitAt(start);
        SplitAt(end);
        var piece = FindVma(start)!;
        piece.Flags = newFlags;
        if (ChangeProtection(piece))
            _k.FlushTlbMmRange(this, start, end);
        TryMerge(piece);
        if ((oldFlags & (VmFlags.VM_WRITE | VmFlags.VM_SHARED | VmFlags.VM_LOCKED)) == VmFlags.VM_LOCKED
            && (newFlags & VmFlags.VM_WRITE) != 0)
            MmPopulate(start, end - start);
        return FindVma(start)!;
    }

    /// <summary>change_pte_range: pte_modify of every present entry of a VMA; whether any changed (change_protection_range flushes only then).</summary>
    private bool ChangeProtection(Vma v)
    {
        ulong newProt = v.PageProt;
        bool changed = false;
        foreach (var (_, slot, pte) in PresentPtes(v.Start, v.End))
        {
            ulong modified = (pte & _PAGE_CHG_MASK) | (newProt & ~_PAGE_CHG_MASK);
            if (modified != pte)
            {
                SetPte(slot, modified);
                changed = true;
            }
        }
        return changed;
    }

    /// <summary>
    /// madvise: MADV_DONTNEED zaps the range (the tables stay); MADV_FREE marks clean,
    /// exclusively mapped anonymous pages lazily freeable. EINVAL for an unaligned start,
    /// ENOMEM if part of the range is unmapped (after advising the mapped part).
    /// </summary>
    internal void Madvise(ulong start, long length, Advice advice)
    {
        if ((start & ~PAGE_MASK) != 0 || length < 0 || !Enum.IsDefined(advice))
            throw new KernelErrnoException("madvise", Errno.EINVAL, $"0x{start:x}, {length}, {advice}");
        if (length == 0)
            return;
        ulong end = start + PageAlign((ulong)length);
        if (end < start)
            throw new KernelErrnoException("madvise", Errno.EINVAL, $"0x{start:x}+{length:x} wraps");
        bool hole = false;
        var tlb = new MmuGather(_k, this);
        for (ulong a = start; a < end;)
        {
            var v = FindVma(a);
            if (v is null || v.Start >= end)
            {
                hole = true;
                break;
            }
            if (v.Start > a)
                hole = true;
            ulong s = Math.Max(a, v.Start), e = Math.Min(end, v.End);
            if (advice == Advice.DontNeed)
                ZapRange(tlb, s, e, ZapCaller.MadviseDontneed);
            else
                MadviseFree(tlb, s, e);
            a = e;
        }
        tlb.Finish();
        if (hole)
            throw new KernelErrnoException("madvise", Errno.ENOMEM, $"part of 0x{start:x}+{length:x} is not mapped");
    }

    /// <summary>madvise_free_pte_range: clear young and dirty, and take the page out of swap-backed memory (lazyfree).</summary>
    private void MadviseFree(MmuGather tlb, ulong start, ulong end)
    {
        foreach (var (addr, slot, pte) in PresentPtes(start, end))
        {
            if (pte_special(pte))
                continue;
            long pfn = pte_pfn(pte);
            ref var p = ref Frames[pfn];
            // madvise_free_pte_range (mm/madvise.c, 5.x): only a page in the swap cache or
            // with PG_dirty is skipped when shared (page_mapcount != 1: its PG_dirty cannot be
            // cleared for the other mappings); a clean shared page is lazyfreed like any other.
            if ((p.Flags & PageFlags.PG_dirty) != 0)
            {
                if (p.MapCount != 0)
                    continue;
                p.Flags &= ~PageFlags.PG_dirty;
            }
            // mark_page_lazyfree: an LRU, anonymous, swap-backed page leaves swap-backed memory.
            if ((p.Flags & PageFlags.PG_swapbacked) != 0)
            {
                p.Flags &= ~(PageFlags.PG_swapbacked | PageFlags.PG_active | PageFlags.PG_referenced);
                _k.VmStat.Count(VmEventItem.PGLAZYFREE);
            }
            ulong clean = pte & ~(_PAGE_ACCESSED | _PAGE_DIRTY);
            if (clean != pte)
            {
                SetPte(slot, clean);
                tlb.TrackRange(addr, addr + PAGE_SIZE);
            }
        }
    }

    /// <summary>
    /// Reclaim of lazily freed pages (shrink_page_list / try_to_unmap): a page not written
    /// since MADV_FREE is unmapped and freed (pglazyfreed); one written again is swap-backed again.
    /// </summary>
    internal long ReclaimLazyfree()
    {
        long freed = 0;
        var tlb = new MmuGather(_k, this);
        foreach (var v in _vmas)
        {
            foreach (var (addr, slot, pte) in PresentPtes(v.Start, v.End))
            {
                if (pte_special(pte))
                    continue;
                long pfn = pte_pfn(pte);
                var page = Frames.Peek(pfn);
                if (!page.Has(PageFlags.PG_anon) || page.Has(PageFlags.PG_swapbacked))
                    continue;
                if (pte_dirty(pte) || page.Has(PageFlags.PG_dirty))
                {
                    Frames[pfn].Flags |= PageFlags.PG_swapbacked;
                    continue;
                }
                SetPte(slot, 0);
                PageRemoveRmap(pfn);
                AddRss(-1);
                tlb.RemovePage(pfn, addr);
                // A page shared after fork is freed (and counted, shrink_page_list's
                // PGLAZYFREED) once its last mapping is discarded.
                if (Frames.Peek(pfn).MapCount == Memory.MapcountValues.Unmapped)
                {
                    _k.VmStat.Count(VmEventItem.PGLAZYFREED);
                    freed++;
                }
            }
        }
        tlb.Finish();
        return freed;
    }
}
