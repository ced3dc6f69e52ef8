using KernelMm.Model.Memory;

namespace KernelMm.Model.Mm;

/// <summary>
/// The memory cgroups and their charge paths, as the model's base kernel has them (the
/// 2015 kmemcg of Davydov's series): alloc_kmem_pages charges the kmem and memory
/// counters and sets page-&gt;mem_cgroup; only free_kmem_pages uncharges kmem; the batched
/// free path (release_pages' uncharge_list) uncharges a page as an ordinary page, from the
/// memory counter only, and clears page-&gt;mem_cgroup, so a kmem page freed that way
/// leaks its kmem charge.
/// </summary>
public sealed partial class MemcgController(Kernel k)
{
    private readonly List<Memcg> _all = [];

    public IReadOnlyList<Memcg> All => _all;

    /// <summary>mkdir in the cgroup hierarchy; EEXIST for a name in use, ENOSPC past 255.</summary>
    public Memcg Create(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Contains('/'))
            throw new KernelErrnoException("mkdir", Errno.EINVAL, $"bad cgroup name '{name}'");
        if (_all.Any(m => m.Online && m.Name == name)) // a removed cgroup's directory is gone, dying or not
            throw new KernelErrnoException("mkdir", Errno.EEXIST, name);
        if (_all.Count >= 255)
            throw new KernelErrnoException("mkdir", Errno.ENOSPC, "the model keeps up to 255 memory cgroups");
        var m = new Memcg(_all.Count + 1, name);
        _all.Add(m);
        return m;
    }

    public Memcg? ById(int id) => id > 0 && id <= _all.Count ? _all[id - 1] : null;

    /// <summary>
    /// Seam after a page was charged to a cgroup's kmem (kmemcg-page-alloc marks it
    /// PageKmemcg here: the Aug 2016 fix marks only charged pages). Nothing in the base kernel.
    /// </summary>
    public Action<long, int>? AfterKmemCharge { get; set; }

    /// <summary>
    /// Seam at the end of alloc_kmem_pages, whether or not a cgroup was charged (no cgroup,
    /// or the root one): kmem-uncharge-free sets PageKmem here, as 1/5 does after
    /// memcg_kmem_commit_charge for every page it returns. Nothing in the base kernel.
    /// </summary>
    public Action<long, int>? AfterAllocKmemPages { get; set; }

    /// <summary>
    /// Seam in uncharge_list (release_pages): return true when the page was dealt with
    /// (so the default ordinary-page uncharge is skipped). Nothing in the base kernel.
    /// </summary>
    public Func<long, bool>? UnchargeListHook { get; set; }

    /// <summary>alloc_kmem_pages: a page allocation charged to <paramref name="memcg"/>'s kmem (null: no charge).</summary>
    public long AllocKmemPages(GfpFlags gfp, int order, Memcg? memcg, PageOwnerKind owner, int ownerId)
    {
        long pfn = k.Buddy.AllocPages(order, gfp, owner, ownerId);
        if (pfn >= 0)
            CommitKmemCharge(pfn, order, memcg);
        return pfn;
    }

    /// <summary>
    /// The end of alloc_kmem_pages (memcg_kmem_commit_charge and what follows it): the
    /// charge and its seam when there is a cgroup, then the end-of-allocation seam for every
    /// page (PageKmem with kmem-uncharge-free).
    /// </summary>
    internal void CommitKmemCharge(long pfn, int order, Memcg? memcg)
    {
        if (memcg is not null)
            ChargeKmemPages(pfn, order, memcg);
        AfterAllocKmemPages?.Invoke(pfn, order);
    }

    /// <summary>A kmem charge outside alloc_kmem_pages (PKS alloc_table charges its tables itself), then its seam.</summary>
    internal void ChargeKmemPages(long pfn, int order, Memcg memcg)
    {
        ChargeKmem(pfn, order, memcg);
        AfterKmemCharge?.Invoke(pfn, order);
    }

    /// <summary>
    /// memcg_kmem_charge_pages: both counters (memcg_charge_kmem charges kmem, then
    /// try_charge the memory counter: v1 memory.usage_in_bytes includes kmem),
    /// page-&gt;mem_cgroup, and the kernel_stack stat for a stack.
    /// </summary>
    internal void ChargeKmem(long pfn, int order, Memcg memcg)
    {
        long n = 1L << order;
        memcg.KmemPages += n;
        memcg.MemoryPages += n;
        AttributeKind(memcg, k.Frames.Peek(pfn).OwnerKind, n);
        k.Frames[pfn].MemcgId = memcg.Id;
    }

    /// <summary>
    /// memcg_kmem_uncharge_pages: undo <see cref="ChargeKmem"/> if the page is charged.
    /// Returns whether it was.
    /// </summary>
    public bool UnchargeKmem(long pfn, int order)
    {
        if ((k.Faults & Diagnostics.FaultInjection.SkipUncharge) != 0)
            return false;
        var memcg = ById(k.Frames.Peek(pfn).MemcgId);
        if (memcg is null)
            return false;
        long n = 1L << order;
        memcg.KmemPages -= n;
        memcg.MemoryPages -= n;
        AttributeKind(memcg, k.Frames.Peek(pfn).OwnerKind, -n);
        k.Frames[pfn].MemcgId = 0;
        return true;
    }

    /// <summary>
    /// Seam: whether free_kmem_pages exists and uncharges. kmem-uncharge-free deletes it
    /// (its callers use free_pages, and the generic free path uncharges).
    /// </summary>
    public bool FreeKmemPagesUncharges { get; set; } = true;

    /// <summary>free_kmem_pages: uncharge, then __free_pages (or just free_pages once the helper is gone).</summary>
    public void FreeKmemPages(long pfn, int order)
    {
        if (FreeKmemPagesUncharges)
            UnchargeKmem(pfn, order);
        k.Buddy.FreePages(pfn, order);
    }

    /// <summary>mem_cgroup_charge of a new anonymous page.</summary>
    internal void ChargeAnon(long pfn, Memcg? memcg)
    {
        if (memcg is null)
            return;
        memcg.MemoryPages += (k.Faults & Diagnostics.FaultInjection.DoubleCharge) != 0 ? 2 : 1;
        memcg.AnonPages++;
        k.Frames[pfn].MemcgId = memcg.Id;
    }

    /// <summary>
    /// uncharge_list for one page of a release_pages batch: an ordinary page's charge goes
    /// from the memory counter and page-&gt;mem_cgroup is cleared. A kmem page is not known
    /// as such here, so its kmem charge (and the stat it was attributed to) stays.
    /// </summary>
    internal void UnchargeListPage(long pfn, ref Page p)
    {
        if (p.MemcgId == 0 && UnchargeListHook is null)
            return;
        if (UnchargeListHook?.Invoke(pfn) == true)
            return;
        var memcg = ById(p.MemcgId);
        if (memcg is null)
            return;
        memcg.MemoryPages--;
        if (p.OwnerKind == PageOwnerKind.UserAnon)
            memcg.AnonPages--;
        p.MemcgId = 0;
    }

    // memory.stat pagetables is not attributed here: it is NR_PAGETABLE of the memcg's
    // lruvec, moved by the table constructor and destructor (see ModPageTableStat).
    private static void AttributeKind(Memcg memcg, PageOwnerKind kind, long n)
    {
        if (kind == PageOwnerKind.KernelStack)
            memcg.KernelStackPages += n;
    }

    /// <summary>
    /// inc/dec_lruvec_page_state(page, NR_PAGETABLE) in pgtable_pte_page_ctor/dtor and
    /// pgtable_pmd_page_ctor/dtor (include/linux/mm.h, 5.11+): the memcg's memory.stat
    /// pagetables follows the page's memcg at ctor and dtor time, whatever later happens to
    /// its kmem charge. The generic __pud_alloc_one runs no constructor, so PUD tables are
    /// never in it.
    /// </summary>
    internal void ModPageTableStat(long pfn, long delta)
    {
        if (ById(k.Frames.Peek(pfn).MemcgId) is { } memcg)
            memcg.PageTablePages += delta;
    }
}
