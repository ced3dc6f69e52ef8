using KernelMm.Model;
using KernelMm.Model.Diagnostics;
using KernelMm.Patches;

namespace KernelMm.Harness.Fuzz;

/// <summary>
/// Which kernel warnings and invariant findings a random workload may produce without the
/// model being wrong: the kernel's answers to what the script did (an OOM kill, a misaligned
/// set_memory, a vfree of an area freed already) and the defects the modelled kernel really
/// has, each where the snapshots already show it (README, "The patch series"). Everything
/// else is a failure.
/// </summary>
public static class FuzzOracle
{
    /// <summary>Warnings the kernel prints for what the workload asked: never a defect.</summary>
    private static readonly HashSet<string> Answers = ["oom-kill", "cpa-misaligned", "vfree"];

    public static bool LogExplained(KernelWarning w, Combination c, Kernel k)
    {
        if (Answers.Contains(w.Kind))
            return true;
        return w.Kind switch
        {
            // __cpa_process_fault: a set_memory_* request running past the direct map's end.
            "cpa" => ZeroPteBeyondDirectMap(w.Message, k),
            // Boot's notice that protectPageTables is off under pti: the boot options the
            // program drew, not a kernel fault (the PKS series disables its tables under PTI).
            "boot" => w.Message.StartsWith("protectPageTables: PKS page tables are off because pti is on", StringComparison.Ordinal),
            _ => false,
        };
    }

    /// <summary>
    /// One bad_page report (its BUG line and the dump_page lines after it), explained as a
    /// whole: restore-large-pages (patch 4) collapses the whole PUD around a request, the boot
    /// map's 4K head too, and __free_page's its PTE table, a memblock table (alloc_low_page
    /// before after_bootmem) still PG_reserved, which free_pages_check reports. And
    /// pte-refcount's free_ptes without kmem-uncharge-free: it frees a user PTE table charged
    /// to a cgroup with __free_page, which nothing uncharges before free_pages_check ("page
    /// still charged to cgroup"; the README's patch table, kmem/free-ptes-uncharge): judged by
    /// the call, since free_ptes frees nothing but PTE tables.
    /// </summary>
    public static bool BadPageReportExplained(IReadOnlyList<KernelWarning> report, Combination c, FuzzCall? call) =>
        (c.IsApplied("restore-large-pages")
            && report.Any(w => w.Message == "page dumped because: PAGE_FLAGS_CHECK_AT_FREE flag(s) set")
            && report.Any(w => w.Message.StartsWith("flags: 0x", StringComparison.Ordinal) && w.Message.EndsWith("(reserved)", StringComparison.Ordinal)))
        || (call == FuzzCall.FreePtes && c.IsApplied("pte-refcount") && !c.IsApplied("kmem-uncharge-free")
            && report.Any(w => w.Message == "page dumped because: page still charged to cgroup"));

    private static bool ZeroPteBeyondDirectMap(string message, Kernel k)
    {
        const string prefix = "WARNING: CPA: called for zero pte. vaddr = ";
        if (!message.StartsWith(prefix, StringComparison.Ordinal))
            return false;
        string hex = message[prefix.Length..].Split(' ')[0];
        return ulong.TryParse(hex, System.Globalization.NumberStyles.HexNumber, null, out ulong va)
            && va >= k.DirectMapAddress(k.MaxPfnMapped) && va < KernelLayout.PAGE_OFFSET + KernelLayout.DIRECT_MAP_SIZE;
    }

    public static bool FindingExplained(KernelWarning w, Combination c) => w.Kind switch
    {
        // The base kernel's kmem leak: page tables freed through mmu_gather keep their kmem
        // charge (release_pages' uncharge_list), with or without kmem-uncharge-free (1/5 does
        // not touch it). The counter is above what is charged, never below.
        "memcg" => w.Message.Contains("pages of charge leaked)", StringComparison.Ordinal) && !w.Message.Contains("(-", StringComparison.Ordinal),
        // restore-large-pages never calls update_page_count: DirectMap keeps the split it undid.
        "directmap" => c.IsApplied("restore-large-pages"),
        _ => false,
    };
}
