using KernelMm.Model.Paging;
using KernelMm.Model.Stats;

namespace KernelMm.Model.Cpa;

/// <summary>
/// direct_pages_count[] of arch/x86/mm/pat/set_memory.c: how many 4K, 2M and 1G entries
/// map the direct map, filled by update_page_count while it is built and moved by
/// split_page_count; printed as DirectMap4k/2M/1G in /proc/meminfo.
/// </summary>
public sealed class DirectMapCounts
{
    private readonly long[] _count = new long[(int)PageLevel.PG_LEVEL_512G + 1];
    private readonly VmStat _vmstat;
    private readonly Func<bool> _running;

    public DirectMapCounts(VmStat vmstat, Func<bool> systemRunning)
    {
        _vmstat = vmstat;
        _running = systemRunning;
    }

    public long this[PageLevel level] => _count[(int)level];

    /// <summary>update_page_count: entries of a level added (or removed, negative) while mapping.</summary>
    public void update_page_count(PageLevel level, long pages) => _count[(int)level] += pages;

    private readonly long[] _unbacked = new long[(int)PageLevel.PG_LEVEL_512G + 1];

    /// <summary>
    /// Entries of a level that the counter holds beyond the direct map's leaves, as the
    /// kernel counts them: init_mem_mapping's entries counted twice (a later step reuses a
    /// leaf and counts it again, phys_*_init's `if (!after_bootmem) pages++`) or kept after
    /// their leaf became a table, and the high-map splits split_page_count also counts
    /// (negative at the split level). The DirectMap invariant allows exactly this.
    /// </summary>
    public long Unbacked(PageLevel level) => _unbacked[(int)level];

    internal void NoteBootOvercount(PageLevel level, long entries) => _unbacked[(int)level] += entries;

    /// <summary>A split_page_count for a large page outside the direct map (the high kernel map).</summary>
    internal void NoteUnbackedSplit(PageLevel level)
    {
        _unbacked[(int)level]--;
        _unbacked[(int)level - 1] += PageShifts.PTRS_PER_TABLE;
    }

    /// <summary>
    /// split_page_count: one entry of <paramref name="level"/> became 512 of the level
    /// below. Nothing (false) if the level's count is already 0; the vm event only once running.
    /// </summary>
    public bool split_page_count(PageLevel level)
    {
        if (_count[(int)level] == 0)
            return false;
        _count[(int)level]--;
        if (_running())
        {
            if (level == PageLevel.PG_LEVEL_2M)
                _vmstat.Count(VmEventItem.DIRECT_MAP_LEVEL2_SPLIT);
            else if (level == PageLevel.PG_LEVEL_1G)
                _vmstat.Count(VmEventItem.DIRECT_MAP_LEVEL3_SPLIT);
        }
        _count[(int)level - 1] += PageShifts.PTRS_PER_TABLE;
        return true;
    }

    /// <summary>arch_report_meminfo: the DirectMap lines, in kB; DirectMap1G only with direct_gbpages.</summary>
    public IEnumerable<(string Name, long Kb)> Meminfo(bool directGbpages)
    {
        yield return ("DirectMap4k", _count[(int)PageLevel.PG_LEVEL_4K] << 2);
        yield return ("DirectMap2M", _count[(int)PageLevel.PG_LEVEL_2M] << 11);
        if (directGbpages)
            yield return ("DirectMap1G", _count[(int)PageLevel.PG_LEVEL_1G] << 20);
    }
}
