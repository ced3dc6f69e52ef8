using KernelMm.Model.Mm;

namespace KernelMm.Harness.Oracle;

/// <summary>
/// The declared differences of era, in one place. A disagreement is explained only by an
/// entry here; anything else fails the oracle (exit 1) and its tests.
/// </summary>
public static class EraDifferences
{
    public static readonly IReadOnlyList<EraDifference> All =
    [
        new("pt-reclaim",
            "6375e95f381e (v6.14): mm: pgtable: reclaim empty PTE page in madvise(MADV_DONTNEED) (mm/pt_reclaim.c, CONFIG_PT_RECLAIM)",
            "the host frees PTE tables that MADV_DONTNEED leaves empty; the replayed combination does not apply the upstream series' pt-reclaim",
            new HashSet<string>(StringComparer.Ordinal) { "VmPTE" },
            c => c.Host.PtReclaim && !c.Patches.Contains("pt-reclaim")
                 && c.History.Any(h => h.Kind == ReplayKind.Madvise && h.Arg == (long)Advice.DontNeed)),
    ];

    /// <summary>The first declared difference that explains a disagreement in <paramref name="figure"/>, if any.</summary>
    public static EraDifference? Explain(string figure, EraContext context) =>
        All.FirstOrDefault(d => d.Figures.Contains(figure) && d.Applies(context));
}
