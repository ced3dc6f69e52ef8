using KernelMm.Model.Memory;
using KernelMm.Model.Paging;
using KernelMm.Model.Stats;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Mm;

/// <summary>handle_mm_fault for anonymous memory: do_anonymous_page and do_wp_page.</summary>
public sealed partial class MmStruct
{
    /// <summary>Writes a user PTE and tells the seam (set_pte_at / ptep_get_and_clear).</summary>
    private void SetPte(EntryRef slot, ulong value)
    {
        var table = PteCache.Holds(_k.Tables, slot.TablePfn) ? PteCache.Table : _k.Tables[slot.TablePfn];
        var hook = _k.PageTableHooks.UserPteChanged;
        if (hook is null)
        {
            table[slot.Index] = value;
            return;
        }
        ulong old = table[slot.Index];
        table[slot.Index] = value;
        hook(this, slot.TablePfn, old, value);
    }

    /// <summary>
    /// A user page fault at <paramref name="addr"/> in <paramref name="vma"/> (access
    /// already checked). Returns false when memory ran out (VM_FAULT_OOM).
    /// </summary>
    internal bool HandleMmFault(Vma vma, ulong addr, bool write)
    {
        _k.VmStat.Count(VmEventItem.PGFAULT);
        bool handled = HandlePteFault(vma, addr, write);
        // mm_account_fault: a fault that did not fail counts in the task's min_flt (no I/O here).
        if (handled)
            Owner.MinFlt++;
        return handled;
    }

    private bool HandlePteFault(Vma vma, ulong addr, bool write)
    {
        var slot = PteAlloc(addr);
        if (slot is not { } s)
            return false;
        ulong entry = PteCache.Table[s.Index];
        if (pte_none(entry))
            return DoAnonymousPage(vma, s, addr, write);
        if (write && !pte_write(entry))
            return DoWpPage(vma, s, addr, entry);
        // Present and permitted: a fault the TLB raced with; mark it young.
        SetPte(s, entry | _PAGE_ACCESSED | (write ? _PAGE_DIRTY : 0));
        return true;
    }

    /// <summary>
    /// do_anonymous_page: a read maps the shared zero page (special, read-only, not in
    /// RSS); a write allocates a zeroed, charged page mapped writable and dirty.
    /// </summary>
    private bool DoAnonymousPage(Vma vma, EntryRef slot, ulong addr, bool write)
    {
        if (!write)
        {
            SetPte(slot, pfn_pte(_k.ZeroPfn, vma.PageProt) | _PAGE_SPECIAL);
            return true;
        }
        AnonVmaPrepare(vma);
        long pfn = NewAnonPage();
        if (pfn < 0)
            return false;
        SetPte(slot, MkAnonPte(vma, pfn));
        return true;
    }

    private static ulong MkAnonPte(Vma vma, long pfn)
    {
        ulong pte = pfn_pte(pfn, vma.PageProt);
        if ((vma.Flags & VmFlags.VM_WRITE) != 0)
            pte |= _PAGE_RW | _PAGE_DIRTY;
        return pte;
    }

    /// <summary>
    /// alloc_zeroed_user_highpage_movable, mem_cgroup_charge, page_add_new_anon_rmap,
    /// lru_cache_add: a new anonymous page with one mapping; MM_ANONPAGES and NR_ANON_MAPPED +1.
    /// </summary>
    private long NewAnonPage()
    {
        long pfn = _k.Buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.UserAnon, Owner.Pid);
        if (pfn < 0)
            return -1;
        _k.Memcgs.ChargeAnon(pfn, ChargeTo);
        ref var p = ref Frames[pfn];
        p.MapCount = 0;
        p.Flags |= PageFlags.PG_anon | PageFlags.PG_swapbacked | PageFlags.PG_lru;
        AddRss(1);
        _k.VmStat.Mod(VmStatItem.NR_ANON_MAPPED, 1);
        return pfn;
    }

    /// <summary>
    /// do_wp_page: a write to a present read-only entry. The zero page, or a page another
    /// mm still maps (after fork), is copied (wp_page_copy); a page mapped only here is
    /// reused in place (wp_page_reuse).
    /// </summary>
    private bool DoWpPage(Vma vma, EntryRef slot, ulong addr, ulong entry)
    {
        long oldPfn = pte_pfn(entry);
        bool zero = pte_special(entry);
        if (!zero && Frames.Peek(oldPfn).MapCount == 0)
        {
            SetPte(slot, entry | _PAGE_RW | _PAGE_DIRTY | _PAGE_ACCESSED);
            return true;
        }
        AnonVmaPrepare(vma);
        long pfn = NewAnonPage();
        if (pfn < 0)
            return false;
        if (!zero)
        {
            // The copy replaces the old page in MM_ANONPAGES.
            AddRss(-1);
            PageRemoveRmap(oldPfn);
            _k.ReleasePage(oldPfn);
        }
        // ptep_clear_flush: the old translation goes before the new one is installed.
        SetPte(slot, 0);
        _k.FlushTlbMmRange(this, addr & PAGE_MASK, (addr & PAGE_MASK) + PAGE_SIZE);
        SetPte(slot, MkAnonPte(vma, pfn));
        return true;
    }

    /// <summary>page_remove_rmap: one mapping fewer; the last one takes the page out of NR_ANON_MAPPED.</summary>
    private void PageRemoveRmap(long pfn) => PageRemoveRmap(ref Frames[pfn]);

    private void PageRemoveRmap(ref Page p)
    {
        p.MapCount--;
        if (p.MapCount == MapcountValues.Unmapped && (_k.Faults & Diagnostics.FaultInjection.DropCounterUpdate) == 0)
            _k.VmStat.Mod(VmStatItem.NR_ANON_MAPPED, -1);
    }
}
