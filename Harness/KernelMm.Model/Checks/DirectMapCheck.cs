using KernelMm.Model.Diagnostics;
using KernelMm.Model.Paging;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Checks;

/// <summary>
/// DirectMap4k/2M/1G against the direct map itself: the leaves of each size that init_mm's
/// tables hold between PAGE_OFFSET and the end of the direct map, plus what the
/// kernel counts without a direct-map leaf (<see cref="Cpa.DirectMapCounts.Unbacked"/>),
/// must equal direct_pages_count[level]. A leaf is any non-none entry where lookup_address
/// stops (a set_memory_np page keeps its count in the kernel too). A path that changes the leaves
/// without update_page_count/split_page_count (restore-large-pages' collapse) shows here.
/// </summary>
internal static class DirectMapCheck
{
    public static IEnumerable<KernelWarning> Run(Kernel k)
    {
        var leaves = CountLeaves(k);
        foreach (var (level, name, kb) in Levels)
        {
            if (level == PageLevel.PG_LEVEL_1G && !k.Options.GbPages && leaves[(int)level] == 0 && k.DirectMap[level] == 0)
                continue;
            long counted = k.DirectMap[level];
            long expected = leaves[(int)level] + k.DirectMap.Unbacked(level);
            if (counted == expected)
                continue;
            long unbacked = k.DirectMap.Unbacked(level);
            string boot = unbacked == 0 ? "" : $" and {unbacked} counted without one";
            yield return new KernelWarning("directmap",
                $"{name} is {counted * kb} kB ({counted} entries) but the direct map holds {leaves[(int)level]} {name[9..]} leaves{boot}: {(counted - expected) * kb} kB off");
        }
    }

    private static readonly (PageLevel Level, string Name, long Kb)[] Levels =
    [
        (PageLevel.PG_LEVEL_4K, "DirectMap4k", 4),
        (PageLevel.PG_LEVEL_2M, "DirectMap2M", 2048),
        (PageLevel.PG_LEVEL_1G, "DirectMap1G", 1L << 20),
    ];

    /// <summary>Non-none leaf entries per level under the direct map's pgd slots.</summary>
    internal static long[] CountLeaves(Kernel k)
    {
        var n = new long[(int)PageLevel.PG_LEVEL_1G + 1];
        var pgd = k.Tables[k.InitTopPgt];
        ulong end = KernelLayout.PAGE_OFFSET + KernelLayout.DIRECT_MAP_SIZE;
        for (ulong va = KernelLayout.PAGE_OFFSET; va < end; va += PGDIR_SIZE)
        {
            ulong g = pgd[pgd_index(va)];
            if (pgd_none(g) || !k.Tables.TryGet(pte_pfn(g), out var pud))
                continue;
            for (int i = 0; i < PTRS_PER_TABLE; i++)
            {
                ulong u = pud[i];
                if (pud_none(u))
                    continue;
                // A leaf where lookup_address stops: PSE, or not present (a whole large page
                // made not present loses PSE in should_split_large_page, and keeps its count).
                if ((u & _PAGE_PSE) != 0 || !pud_present(u))
                {
                    n[(int)PageLevel.PG_LEVEL_1G]++;
                    continue;
                }
                if (!k.Tables.TryGet(pud_pfn(u), out var pmd))
                    continue;
                for (int j = 0; j < PTRS_PER_TABLE; j++)
                {
                    ulong m = pmd[j];
                    if (pmd_none(m))
                        continue;
                    if (pmd_large(m) || !pmd_present(m))
                    {
                        n[(int)PageLevel.PG_LEVEL_2M]++;
                        continue;
                    }
                    if (!k.Tables.TryGet(pmd_pfn(m), out var pte))
                        continue;
                    for (int x = pte.NextUsed(0); x < PTRS_PER_TABLE; x = pte.NextUsed(x + 1))
                        if (!pte_none(pte[x]))
                            n[(int)PageLevel.PG_LEVEL_4K]++;
                }
            }
        }
        return n;
    }
}
