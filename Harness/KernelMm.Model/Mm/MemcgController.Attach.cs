using KernelMm.Model.Memory;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Model.Mm;

/// <summary>
/// Moving a task between memory cgroups, as a v1 hierarchy does it in 5.x (the model's
/// counters are v1's: memory.usage_in_bytes, memory.kmem.usage_in_bytes): a write of its
/// pid to the destination's cgroup.procs (__cgroup1_procs_write, cgroup_attach_task), the
/// memory controller's can_attach and post_attach (mem_cgroup_can_attach,
/// mem_cgroup_move_task, mm/memcontrol.c 5.10), rmdir, and memory.move_charge_at_immigrate.
/// </summary>
public sealed partial class MemcgController
{
    /// <summary>
    /// echo PID &gt; <paramref name="dst"/>/cgroup.procs (null: the root cgroup's). The task's
    /// new charges (anonymous faults, page tables) go to <paramref name="dst"/> from now on;
    /// what is charged already stays where it is (page-&gt;mem_cgroup, so the uncharge at free
    /// goes there too), the kernel stack and every kmem page included, unless
    /// <paramref name="dst"/>'s move_charge_at_immigrate has MOVE_ANON: then the anonymous
    /// pages the task maps that are charged to its old cgroup move with it
    /// (<see cref="MoveCharge"/>). Returns the pages whose charge moved.
    /// </summary>
    /// <exception cref="KernelErrnoException">ENODEV for a removed cgroup (cgroup_kn_lock_live
    /// fails on the file of a dead cgroup), ESRCH for a task that exited or belongs to
    /// another kernel (find_task_by_vpid finds no such pid), ENOENT for a cgroup of another kernel.</exception>
    public long Attach(Process task, Memcg? dst)
    {
        const string call = "cgroup.procs";
        if (dst is not null)
            CheckLive(dst, call);
        if (!ReferenceEquals(task.Kernel, k))
            throw new KernelErrnoException(call, Errno.ESRCH, $"process {task.Pid} ({task.Comm}) is not a task of this kernel");
        if (!task.Alive)
            throw new KernelErrnoException(call, Errno.ESRCH, $"process {task.Pid} ({task.Comm}) has exited");
        k.CountOperation();
        var from = task.Memcg;
        // cgroup_migrate_prepare_dst drops a source css_set that is already the destination's:
        // nothing migrates and the write succeeds (can_attach never sees from == to).
        if (from == dst)
            return 0;
        // mem_cgroup_can_attach reads the destination's knob once, for this migration; the
        // root cgroup's stays 0 here (the model has no object for it).
        long moveFlags = dst?.MoveChargeAtImmigrate ?? 0;
        task.Memcg = dst;
        // mm->owner == p: every model task owns its mm (no threads share one).
        return (moveFlags & Memcg.MOVE_ANON) != 0 && task.Mm is { TornDown: false } mm ? MoveCharge(mm, from, dst!) : 0;
    }

    /// <summary>
    /// mem_cgroup_move_charge's walk (mem_cgroup_move_charge_pte_range, 5.10): every present
    /// PTE whose page get_mctgt_type takes. mc_handle_present_pte: vm_normal_page (not the
    /// zero page, a special PTE), page_mapped, PageAnon with MOVE_ANON; whatever its mapcount
    /// (a page still shared with a fork parent or child moves too: the mapcount check went in
    /// 3.7, 4b91355e9ffb "memcg: fix/change behavior of shared anon at moving task"); only if
    /// page-&gt;mem_cgroup is the old cgroup, and isolate_lru_page succeeds (PG_lru).
    /// mem_cgroup_move_account then moves the page's stats and page-&gt;mem_cgroup; the
    /// counters follow as precharge (try_charge of the destination) and cancel_charge of the
    /// source at mem_cgroup_clear_mc: memory only, never kmem. Page tables, the pgd and the
    /// kernel stack are kmem, not on the LRU, not in the walk: they stay charged to the old
    /// cgroup. The destination has no limit in the model, so the precharge never fails.
    /// </summary>
    private long MoveCharge(MmStruct mm, Memcg? from, Memcg to)
    {
        int fromId = from?.Id ?? 0;
        long moved = 0;
        foreach (var (_, _, pte) in mm.PresentUserPtes())
        {
            if (pte_special(pte))
                continue;
            long pfn = pte_pfn(pte);
            var page = k.Frames.Peek(pfn);
            if (!page.Has(PageFlags.PG_anon) || !page.Has(PageFlags.PG_lru) || page.MapCount == MapcountValues.Unmapped)
                continue;
            if (page.MemcgId != fromId)
                continue;
            k.CountOperation();
            k.Frames[pfn].MemcgId = to.Id;
            moved++;
            if ((k.Faults & Diagnostics.FaultInjection.SkipMoveChargeCounters) != 0)
                continue;
            to.MemoryPages++;
            to.AnonPages++;
            if (from is not null)
            {
                from.MemoryPages--;
                from.AnonPages--;
            }
        }
        return moved;
    }

    /// <summary>
    /// echo VAL &gt; memory.move_charge_at_immigrate (mem_cgroup_move_charge_write, 5.10):
    /// EINVAL for a bit outside MOVE_MASK (or a negative value, which kstrtoull refuses);
    /// it applies to the migrations that start after the write.
    /// </summary>
    public void SetMoveChargeAtImmigrate(Memcg memcg, long value)
    {
        const string call = "memory.move_charge_at_immigrate";
        CheckLive(memcg, call);
        if ((value & ~Memcg.MOVE_MASK) != 0)
            throw new KernelErrnoException(call, Errno.EINVAL, $"{value} (bits: MOVE_ANON 1, MOVE_FILE 2)");
        k.CountOperation();
        memcg.MoveChargeAtImmigrate = value;
    }

    /// <summary>
    /// rmdir (cgroup_rmdir, cgroup_destroy_locked): EBUSY while a task is in the cgroup
    /// (cgroup_is_populated); the model's cgroups have no children. The css goes offline: the
    /// cgroup is gone from the hierarchy, but pages still charged to it keep it alive, dying,
    /// and their uncharges still go to it (5.10 reparents only slab objects, through obj_cgroup,
    /// not page-&gt;mem_cgroup). ENOENT when it was removed already.
    /// </summary>
    public void Rmdir(Memcg memcg)
    {
        const string call = "rmdir";
        if (!_all.Contains(memcg) || !memcg.Online)
            throw new KernelErrnoException(call, Errno.ENOENT, $"memory cgroup {memcg.Name}");
        if (k.Processes.FirstOrDefault(p => p.Memcg == memcg) is { } task)
            throw new KernelErrnoException(call, Errno.EBUSY, $"memory cgroup {memcg.Name} still has process {task.Pid} ({task.Comm})");
        k.CountOperation();
        memcg.Online = false;
    }

    /// <summary>
    /// Whether a removed cgroup still holds charges (page counters above zero): a dying
    /// cgroup the kernel still keeps; one with none would be freed (css_free).
    /// </summary>
    public static bool IsDying(Memcg memcg) => !memcg.Online && (memcg.MemoryPages != 0 || memcg.KmemPages != 0);

    /// <summary>The files of a removed cgroup fail with ENODEV (kernfs_get_active, cgroup_kn_lock_live); one of another kernel is not there: ENOENT.</summary>
    internal void CheckLive(Memcg memcg, string call)
    {
        if (!_all.Contains(memcg))
            throw new KernelErrnoException(call, Errno.ENOENT, $"memory cgroup {memcg.Name} is not a cgroup of this kernel");
        if (!memcg.Online)
            throw new KernelErrnoException(call, Errno.ENODEV, $"memory cgroup {memcg.Name} was removed");
    }
}
