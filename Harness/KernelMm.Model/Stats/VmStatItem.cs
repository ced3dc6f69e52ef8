namespace KernelMm.Model.Stats;

/// <summary>
/// The /proc/vmstat counters the model maintains, in the kernel's order (4.9 zone items,
/// then node items; KERNEL-FACTS C.1). A counter the model does not maintain is not
/// here, so nothing invented is printed. <c>nr_bounce</c> is kept (always 0) so that a
/// line a patch inserts before it shows where it lands. Names live in
/// <see cref="VmStat.vmstat_text"/>, which must stay in lockstep with this enum.
/// </summary>
public enum VmStatItem
{
    NR_FREE_PAGES,
    NR_PAGETABLE,
    NR_KERNEL_STACK_KB,
    NR_BOUNCE,
    /// <summary>NR_ANON_MAPPED, printed as nr_anon_pages (a node item, after the zone items).</summary>
    NR_ANON_MAPPED,
    NR_VM_STAT_ITEMS,
}

/// <summary>
/// The vm events the model maintains, in the order of include/linux/vm_event_item.h
/// (pgalloc per zone, pgfree, pgfault, ... the x86 direct-map events near the end).
/// </summary>
public enum VmEventItem
{
    PGALLOC_DMA,
    PGALLOC_DMA32,
    PGALLOC_NORMAL,
    PGFREE,
    PGLAZYFREE,
    PGFAULT,
    PGLAZYFREED,
    DIRECT_MAP_LEVEL2_SPLIT,
    DIRECT_MAP_LEVEL3_SPLIT,
    NR_VM_EVENT_ITEMS,
}
