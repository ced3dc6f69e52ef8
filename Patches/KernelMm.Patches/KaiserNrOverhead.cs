using KernelMm.Model;
using KernelMm.Model.Diagnostics;
using KernelMm.Model.Memory;
using KernelMm.Model.Paging;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Patches;

/// <summary>
/// Patch 1: "kaiser: vmstat show NR_KAISERTABLE as nr_overhead" (Hugh Dickins, 4.9-stable
/// review patch 19/39, Jan 2018). KAISER never frees a shadow page table; this adds the
/// count: the 256 shared kernel-half PUD tables of kaiser_init_all_pgds and every table
/// kaiser_pagetable_walk installs (not the page it frees after losing a race, and not the
/// per-mm shadow pgd), shown as nr_overhead after nr_kernel_stack, 0 when KAISER is off.
/// Nothing ever decrements it.
/// </summary>
public sealed class KaiserNrOverhead() : Patch(
    id: "kaiser-nr-overhead",
    order: 1,
    title: "kaiser: vmstat show NR_KAISERTABLE as nr_overhead",
    posted: "4.9-stable review, [PATCH 4.9 19/39], Greg Kroah-Hartman for Hugh Dickins, 2018-01-03",
    changes: "Counts KAISER shadow page tables (256 boot PUD tables plus each table kaiser_pagetable_walk installs) in NR_KAISERTABLE, printed as nr_overhead after nr_kernel_stack.")
{
    public const string VmstatName = "nr_overhead";

    public override void Apply(Kernel k)
    {
        int counter = k.VmStat.RegisterCounter(VmstatName, after: "nr_kernel_stack");
        if (k.Kaiser is not { } kaiser)
            return; // pti off: the line prints 0
        kaiser.TableInstalled += _ => k.VmStat.ModExtra(counter, 1);
        k.Invariants.Add(() => Check(k, counter));
    }

    /// <summary>
    /// NR_KAISERTABLE equals the KAISER tables reachable under the init shadow pgd, plus the
    /// boot PUD table init_espfix_bsp's pgd copy unlinked (still counted, never freed). The
    /// ESPfix slot itself holds ESPfix's own tables, which KAISER never counts.
    /// </summary>
    private static IEnumerable<KernelWarning> Check(Kernel k, int counter)
    {
        long tables = k.Kaiser!.UnlinkedTables;
        var pgd = k.Tables[k.Image.InitShadowPgtPfn];
        for (int i = 256; i < 512; i++)
        {
            if (pgd_none(pgd[i]) || !IsKaiserTable(pte_pfn(pgd[i])))
                continue;
            tables++;
            // Only the entries that are not none (NextUsed): the shadow tables are nearly empty,
            // and reading all 512 entries of each was 1.4% of a warm suite.
            var puds = k.Tables[pte_pfn(pgd[i])];
            for (int u = puds.NextUsed(0); u < PageShifts.PTRS_PER_TABLE; u = puds.NextUsed(u + 1))
            {
                ulong pud = puds[u];
                if (pud_none(pud))
                    continue;
                tables++;
                var pmds = k.Tables[pud_pfn(pud)];
                for (int m = pmds.NextUsed(0); m < PageShifts.PTRS_PER_TABLE; m = pmds.NextUsed(m + 1))
                    if (!pmd_none(pmds[m]))
                        tables++;
            }
        }

        bool IsKaiserTable(long pfn) => k.Frames.Peek(pfn).OwnerKind == PageOwnerKind.KaiserTable;
        long value = k.VmStat.GetExtra(counter);
        if (value != tables)
            yield return new KernelWarning("pt-accounting", $"{VmstatName} is {value} but the shadow pgd reaches {tables} KAISER tables");
    }
}
