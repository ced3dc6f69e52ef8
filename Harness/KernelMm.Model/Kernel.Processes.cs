using KernelMm.Model.Memory;
using KernelMm.Model.Mm;
using KernelMm.Model.Vmscan;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model;

/// <summary>Tasks, their address spaces on the CPUs, the OOM killer and reclaim.</summary>
public sealed partial class Kernel
{
    private readonly List<Process> _processes = [];
    /// <summary>
    /// RESERVED_PIDS (kernel/pid.c): where alloc_pid starts again after pid_max wraps, so
    /// that init (pid 1), kthreadd (2) and the boot's kernel threads and daemons keep their
    /// low pids. The model starts its user tasks here: init is not modelled, and no
    /// scenario task can be pid 1, which oom_unkillable_task excludes.
    /// </summary>
    public const int RESERVED_PIDS = 300;

    private int _nextPid = RESERVED_PIDS;

    /// <summary>Live processes, in pid order.</summary>
    public IReadOnlyList<Process> Processes => _processes;

    /// <summary>Model operations done so far (calls and touched pages), for a runaway budget.</summary>
    public long Operations { get; private set; }

    /// <summary>The budget of model operations; past it every call throws <see cref="OperationBudgetExceededException"/>.</summary>
    public long OperationLimit { get; set; } = long.MaxValue;

    internal void CountOperation(long n = 1)
    {
        Operations += n;
        if (Operations > OperationLimit)
            throw new OperationBudgetExceededException(OperationLimit);
    }

    /// <summary>fork + execve of a fresh program: a task with a new mm whose stack VMA has its top page written.</summary>
    public Process Spawn(string name, Memcg? memcg = null)
    {
        CountOperation();
        if (memcg is not null)
            Memcgs.CheckLive(memcg, "cgroup.procs"); // the fork joins the cgroup by a write of its pid
        var p = new Process(this, _nextPid++, name, memcg);
        _processes.Add(p);
        try
        {
            p.SetupArgPages();
        }
        catch (KernelErrnoException)
        {
            p.Exit(); // execve failed before the new image ran: the task goes away
            throw;
        }
        return p;
    }

    internal Process ForkProcess(Process parent, string name)
    {
        var child = new Process(this, _nextPid++, name, parent.Memcg);
        _processes.Add(child);
        SwitchMm(parent.Cpu, parent.Mm);
        if (!parent.Mm.DupMmap(child.Mm))
        {
            child.Exit();
            throw new KernelErrnoException("fork", Errno.ENOMEM, "dup_mmap: the overcommit policy refused a VMA, or copy_page_range ran out of memory");
        }
        return child;
    }

    internal void ProcessExited(Process p) => _processes.Remove(p);

    /// <summary>switch_mm on a CPU: a CR3 write drops the non-global translations.</summary>
    internal void SwitchMm(int cpu, MmStruct mm)
    {
        var tlb = Tlbs.Cpus[cpu];
        if (tlb.CurrentPgd == mm.Pgd)
            return;
        tlb.CurrentPgd = mm.Pgd;
        tlb.FlushNonGlobal();
    }

    /// <summary>An exiting mm leaves every CPU that had it loaded (they switch to init_mm).</summary>
    internal void DropMmFromTlbs(MmStruct mm)
    {
        foreach (var tlb in Tlbs.Cpus)
        {
            if (tlb.CurrentPgd != mm.Pgd)
                continue;
            tlb.CurrentPgd = InitTopPgt;
            tlb.FlushNonGlobal();
        }
    }

    /// <summary>flush_tlb_mm_range: on CPUs running the mm, INVLPG per page up to the ceiling, else a CR3 reload.</summary>
    /// <paramref name="check"/>: the TLBs are checked against the tables afterwards (a flush
    /// point), unless the caller checks at its own (tlb_finish_mmu).
    internal void FlushTlbMmRange(MmStruct mm, ulong start, ulong end, bool check = true)
    {
        ulong pages = (end - start) >> PAGE_SHIFT;
        foreach (var tlb in Tlbs.Cpus)
        {
            if (tlb.CurrentPgd != mm.Pgd || (Faults & Diagnostics.FaultInjection.SkipTlbFlush) != 0)
                continue;
            if (pages > Tlb.TlbSet.tlb_single_page_flush_ceiling)
            {
                tlb.FlushNonGlobal();
                continue;
            }
            for (ulong va = start; va < end; va += PAGE_SIZE)
                tlb.Invlpg(va);
        }
        if (check)
            FlushPoint("flush_tlb_mm_range", Tlb.FlushScope.Mm(mm.Pgd));
    }

    /// <summary>flush_tlb_mm: the whole mm, on the CPUs running it.</summary>
    internal void FlushTlbMm(MmStruct mm, bool check = true)
    {
        foreach (var tlb in Tlbs.Cpus)
            if (tlb.CurrentPgd == mm.Pgd)
                tlb.FlushNonGlobal();
        if (check)
            FlushPoint("flush_tlb_mm", Tlb.FlushScope.Mm(mm.Pgd));
    }

    /// <summary>
    /// A user-mode access: the TLB, else the page walk, else a page fault. Returns false if
    /// the task was killed by the OOM killer on the way.
    /// </summary>
    internal bool UserAccess(Process p, ulong addr, bool write)
    {
        CountOperation();
        var tlb = Tlbs.Cpus[p.Cpu];
        bool cached = tlb.TryLookupFlags(addr, out ulong tlbFlags);
        if (cached && UserPermits(tlbFlags, write))
            return true;
        long inserts = tlb.Inserts;
        var cache = p.Mm.PteCache;
        for (int attempt = 0; ; attempt++)
        {
            if (Walker.Walk(p.Mm.Pgd, addr, cache, out var w, out var leaf) && UserPermits(w.Flags | (write ? _PAGE_DIRTY : 0), write))
            {
                // The walk sets ACCESSED (and DIRTY for a write) in the leaf, and the TLB
                // caches the translation with them: A and D are 4K-form bits at every level.
                var table = cache.Holds(Tables, leaf.TablePfn) ? cache.Table : Tables[leaf.TablePfn];
                ulong v = table[leaf.Index];
                ulong nv = v | _PAGE_ACCESSED | (write ? _PAGE_DIRTY : 0);
                if (nv != v)
                {
                    table[leaf.Index] = nv;
                    w = w with { Flags = w.Flags | (nv & ~v) };
                }
                // After a miss at every size, nothing can hold this key unless something was inserted since.
                tlb.Fill(w, mayBeCached: cached || tlb.Inserts != inserts);
                return true;
            }
            if (attempt > 0)
                throw new InvalidOperationException($"a fault at 0x{addr:x} did not make it accessible");
            var vma = p.Mm.FindVma(addr);
            if (vma is null || vma.Start > addr)
                throw new KernelErrnoException("touch", Errno.EFAULT, $"SIGSEGV: {p} has no mapping at 0x{addr:x}");
            bool allowed = write ? (vma.Flags & VmFlags.VM_WRITE) != 0 : (vma.Flags & (VmFlags.VM_READ | VmFlags.VM_WRITE | VmFlags.VM_EXEC)) != 0;
            if (!allowed)
                throw new KernelErrnoException("touch", Errno.EFAULT, $"SIGSEGV: {p} may not {(write ? "write" : "read")} 0x{addr:x} ({vma.Perms})");
            if (!p.Mm.HandleMmFault(vma, addr, write))
            {
                OutOfMemory(p);
                if (!p.Alive)
                    return false;
                attempt = -1;
            }
        }
    }

    private static bool UserPermits(ulong flags, bool write) =>
        (flags & _PAGE_USER) != 0 && (!write || ((flags & _PAGE_RW) != 0 && (flags & _PAGE_DIRTY) != 0));

    /// <summary>
    /// out_of_memory's select_bad_process (mm/oom_kill.c, 5.x): for_each_process in task-list
    /// (creation) order, oom_evaluate_task skips an unkillable task (oom_unkillable_task:
    /// the global init, kernel threads) and takes a task whose oom_badness (RSS plus page
    /// tables in pages; no swap, oom_score_adj 0) is not below the best so far
    /// (<c>points &lt; oc-&gt;chosen_points</c> goes to next): on a tie the later task wins.
    /// Logged as the kernel logs it.
    /// </summary>
    internal void OutOfMemory(Process current)
    {
        Process? victim = null;
        long best = long.MinValue;
        foreach (var p in _processes)
        {
            if (OomUnkillableTask(p))
                continue;
            long points = OomBadness(p);
            if (points < best)
                continue;
            best = points;
            victim = p;
        }
        victim ??= current;
        Log.Warn("oom-kill", $"Out of memory: Killed process {victim.Pid} ({victim.Comm}) total-vm:{victim.Mm.TotalVm * 4}kB, anon-rss:{victim.Mm.AnonRss * 4}kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:{victim.Mm.PgtablesBytes >> 10}kB oom_score_adj:0");
        victim.Exit();
    }

    /// <summary>oom_unkillable_task: is_global_init (pid 1); the model has no kernel threads in its task list.</summary>
    internal static bool OomUnkillableTask(Process p) => p.Pid == 1;

    /// <summary>oom_badness: get_mm_rss + MM_SWAPENTS (none) + mm_pgtables_bytes / PAGE_SIZE, oom_score_adj 0.</summary>
    internal static long OomBadness(Process p) => p.Mm.AnonRss + (p.Mm.PgtablesBytes >> 12);

    /// <summary>
    /// __vm_enough_memory (mm/util.c): charges <paramref name="pages"/> to vm_committed_as if
    /// the overcommit policy allows it; false (the caller's -ENOMEM) if not, with nothing charged.
    /// </summary>
    public bool __vm_enough_memory(MmStruct? mm, long pages, bool cap_sys_admin) => Overcommit.VmEnoughMemory(mm, pages, cap_sys_admin);

    /// <summary>
    /// security_vm_enough_memory_mm: cap_vm_enough_memory asks whether the task has
    /// CAP_SYS_ADMIN; the model's tasks run as root (UID 0, as the OOM report prints), so
    /// the admin reserve is not held back from them.
    /// </summary>
    public bool SecurityVmEnoughMemoryMm(MmStruct mm, long pages) => __vm_enough_memory(mm, pages, cap_sys_admin: true);

    /// <summary>release_pages for one page: the last reference leaves the LRU, is uncharged (uncharge_list) and freed.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal void ReleasePage(long pfn)
    {
        // One lookup of the page for the whole of release_pages' step.
        ref var page = ref Frames.MaterializedOrNull(pfn);
        if (!Buddy.PutPageTestzero(ref page, pfn))
            return;
        page.Flags &= ~(PageFlags.PG_lru | PageFlags.PG_active);
        Memcgs.UnchargeListPage(pfn, ref page);
        Buddy.FreeFrozenPage(ref page, pfn);
        if ((Faults & Diagnostics.FaultInjection.DoubleFree) != 0)
            Buddy.FreePages(pfn, 0);
    }

    /// <summary>The kernel checks: frame conservation, page-table accounting, counters, memcg, TLB, a patch's invariants.</summary>
    public IReadOnlyList<Diagnostics.KernelWarning> RunChecks() => new Checks.InvariantChecker(this).Run();

    /// <summary>The TLB check at a flush point: findings go to the log.</summary>
    internal void FlushPoint(string where, Tlb.FlushScope scope)
    {
        if (CheckTlbAtFlushPoints)
            Tlbs.CheckCoherence(Walker, c => Tlbs.Cpus[c].CurrentPgd, Log, where, scope);
    }

    /// <summary>A page-table page goes back to the allocator: checked against every TLB first.</summary>
    public void FreeTablePage(long pfn, string where)
    {
        Tlbs.CheckTableFree(pfn, Log, where);
        Tables.Remove(pfn);
        PageTablePages.Free(pfn, batched: false);
    }

    /// <summary>shrinker_list: the registered shrinkers, run by shrink_slab.</summary>
    public ShrinkerList Shrinkers { get; } = new();

    /// <summary>register_shrinker.</summary>
    public void RegisterShrinker(Shrinker shrinker) => Shrinkers.register_shrinker(shrinker);

    /// <summary>
    /// Memory pressure at its hardest: the shrinkers run as drop_slab_node runs them
    /// (shrink_slab at priority 0, again while a pass frees more than 10), then lazily freed
    /// anonymous pages are reclaimed. Returns what was freed.
    /// </summary>
    public long Reclaim()
    {
        CountOperation();
        long freed = Shrinkers.drop_slab_node(0);
        foreach (var p in _processes.ToList())
            freed += p.Mm.ReclaimLazyfree();
        return freed;
    }

    /// <summary>alloc_pages(GFP_KERNEL, order) for a scenario; ENOMEM when nothing is free.</summary>
    public long AllocPages(int order = 0)
    {
        CountOperation();
        if ((uint)order > PageFrames.MAX_ORDER)
            throw new KernelErrnoException("alloc_pages", Errno.EINVAL, $"order {order}");
        long pfn = Buddy.AllocPages(order, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel);
        if (pfn < 0)
            throw new KernelErrnoException("alloc_pages", Errno.ENOMEM, $"order {order}");
        _kernelAllocs.Set(pfn, order);
        return pfn;
    }

    /// <summary>__free_pages for a scenario.</summary>
    public void FreePages(long pfn, int order = 0)
    {
        CountOperation();
        if (!Frames.PfnValid(pfn) || (uint)order > PageFrames.MAX_ORDER)
            throw new KernelErrnoException("__free_pages", Errno.EINVAL, $"pfn {pfn:x}, order {order}");
        if (Frames.Peek(pfn).RefCount == 1)
            _kernelAllocs.Remove(pfn);
        Buddy.FreePages(pfn, order);
    }

    private readonly Memory.PfnOrderMap _kernelAllocs = new();

    /// <summary>Blocks a scenario holds from <see cref="AllocPages"/>, by first pfn, with their order, in pfn order.</summary>
    public IEnumerable<(long Pfn, int Order)> KernelAllocations => _kernelAllocs.Blocks();
}

/// <summary>A run used up its budget of model operations (a runaway scenario).</summary>
public sealed class OperationBudgetExceededException(long limit)
    : Exception($"the scenario used more than {limit} model operations (runaway?)")
{
    public long Limit { get; } = limit;
}
