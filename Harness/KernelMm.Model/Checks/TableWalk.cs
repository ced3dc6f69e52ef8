using KernelMm.Model.Diagnostics;
using KernelMm.Model.Memory;
using KernelMm.Model.Mm;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Checks;

/// <summary>
/// Walks every page table the kernel has: init_mm's (and KAISER's shadow) kernel tables
/// and each process's user half. Each table page is claimed; a table reached from two
/// parent entries, or from a user pgd's kernel half that differs from init_mm's, is a finding.
/// </summary>
internal sealed class TableWalk(Kernel k, FrameClaims claims, List<KernelWarning> findings)
{
    public readonly record struct MmCounts(long PudTables, long PmdTables, long PteTables, long AnonPtes);

    // Where each table was reached from, formatted only for a finding (a walk reaches thousands).
    private readonly Dictionary<long, (string Name, long Parent, int Index)> _parent = [];

    /// <summary>Kernel tables with a constructor (PageTable), which count in nr_page_table_pages.</summary>
    public long KernelCtorTables { get; private set; }

    private void Reach(long tablePfn, string name, long parent, int index)
    {
        if (!_parent.TryAdd(tablePfn, (name, parent, index)))
        {
            findings.Add(new KernelWarning("pt-accounting", $"table pfn:{tablePfn:x5} is linked from {From(_parent[tablePfn])} and from {From((name, parent, index))}"));
            return;
        }
        if (!k.Tables.IsTable(tablePfn))
            findings.Add(new KernelWarning("pt-accounting", $"{From((name, parent, index))} points at pfn:{tablePfn:x5}, which holds no table (freed?)"));
    }

    /// <summary>"init_mm pgd[256]", "1 (a) pud pfn:01234[5]": the parent entry, as a finding names it.</summary>
    private static string From((string Name, long Parent, int Index) p) =>
        p.Parent < 0 ? $"{p.Name} pgd[{p.Index}]" : $"{p.Name} pfn:{p.Parent:x5}[{p.Index}]";

    public void WalkKernel()
    {
        WalkKernelTree(k.InitTopPgt, "init_mm");
        if (k.Kaiser is not null)
            WalkKernelTree(k.Image.InitShadowPgtPfn, "shadow pgd");
    }

    private static readonly int EspfixPgdIndex = pgd_index(KernelLayout.ESPFIX_BASE_ADDR);

    private void WalkKernelTree(long pgdPfn, string name)
    {
        var pgd = k.Tables[pgdPfn];
        for (int i = 256; i < 512; i++)
        {
            if (pgd_none(pgd[i]))
                continue;
            // ESPfix links its PMD and PTE pages from hundreds of entries on purpose
            // (ESPFIX_PUD/PMD_CLONES); Espfix claims them once itself.
            if (i == EspfixPgdIndex)
                continue;
            long pud = pte_pfn(pgd[i]);
            Reach(pud, name, -1, i);
            ClaimKernelTable(pud);
            if (!k.Tables.TryGet(pud, out var pudt))
                continue;
            for (int j = pudt.NextUsed(0); j < 512; j = pudt.NextUsed(j + 1))
            {
                if (pud_none(pudt[j]) || pud_large(pudt[j]) || !pud_present(pudt[j]))
                    continue;
                long pmd = pud_pfn(pudt[j]);
                Reach(pmd, name + " pud", pud, j);
                ClaimKernelTable(pmd);
                if (!k.Tables.TryGet(pmd, out var pmdt))
                    continue;
                for (int m = pmdt.NextUsed(0); m < 512; m = pmdt.NextUsed(m + 1))
                {
                    if (pmd_none(pmdt[m]) || pmd_large(pmdt[m]) || !pmd_present(pmdt[m]))
                        continue;
                    long pte = pmd_pfn(pmdt[m]);
                    Reach(pte, name + " pmd", pmd, m);
                    ClaimKernelTable(pte);
                }
            }
        }
    }

    private void ClaimKernelTable(long pfn)
    {
        var p = k.Frames.Peek(pfn);
        if (p.Has(PageFlags.PG_table))
            KernelCtorTables++;
        if (p.OwnerKind is PageOwnerKind.KernelImage or PageOwnerKind.Reserved)
            return;
        claims.Claim(pfn, p.OwnerKind is PageOwnerKind.None ? PageOwnerKind.KernelPageTable : p.OwnerKind, "kernel page tables");
    }

    /// <summary>
    /// A table's count of non-none entries (what zaps, dumps, free_ptes and these walks use to
    /// skip empty stretches) against the entries it holds, counted (all 512 of a full table).
    /// </summary>
    private void CheckEntryCount(Paging.PageTable t, string level, string who)
    {
        int n = t.CountNonNone();
        if (n != t.UsedEntries)
            findings.Add(new KernelWarning("pt-accounting", $"{who}: {level} pfn:{t.Pfn:x5} counts {t.UsedEntries} non-none entries but holds {n}"));
    }

    public IReadOnlyDictionary<Process, MmCounts> WalkProcesses()
    {
        var result = new Dictionary<Process, MmCounts>();
        var init = k.Tables[k.InitTopPgt];
        foreach (var proc in k.Processes)
        {
            var mm = proc.Mm;
            string who = proc.ToString(), whoPud = who + " pud", whoPmd = who + " pmd";
            string pudOf = $"PUD table of {who}", pmdOf = $"PMD table of {who}", pteOf = $"PTE table of {who}", anonOf = $"anonymous memory of {who}";
            claims.Claim(mm.Pgd, PageOwnerKind.UserPageTable, $"pgd of {who}");
            if (mm.ShadowPgd >= 0)
                claims.Claim(mm.ShadowPgd, PageOwnerKind.UserPageTable, $"shadow pgd of {who}");
            var pgd = k.Tables[mm.Pgd];
            CheckEntryCount(pgd, "pgd", who);
            for (int i = 256; i < 512; i++)
            {
                if (pgd[i] != init[i])
                {
                    findings.Add(new KernelWarning("pt-accounting", $"{who}: pgd[{i}] {pgd[i]:x} differs from init_mm's {init[i]:x}"));
                    break;
                }
            }
            long puds = 0, pmds = 0, ptes = 0, anon = 0;
            for (int i = 0; i < 256; i++)
            {
                if (pgd_none(pgd[i]))
                    continue;
                long pud = pte_pfn(pgd[i]);
                Reach(pud, who, -1, i);
                claims.Claim(pud, PageOwnerKind.UserPageTable, pudOf);
                puds++;
                if (!k.Tables.TryGet(pud, out var pudt))
                    continue;
                CheckEntryCount(pudt, "PUD table", who);
                for (int j = 0; j < 512; j++)
                {
                    if (pud_none(pudt[j]))
                        continue;
                    long pmd = pud_pfn(pudt[j]);
                    Reach(pmd, whoPud, pud, j);
                    claims.Claim(pmd, PageOwnerKind.UserPageTable, pmdOf);
                    pmds++;
                    if (!k.Tables.TryGet(pmd, out var pmdt))
                        continue;
                    CheckEntryCount(pmdt, "PMD table", who);
                    for (int m = 0; m < 512; m++)
                    {
                        if (pmd_none(pmdt[m]))
                            continue;
                        long pte = pmd_pfn(pmdt[m]);
                        Reach(pte, whoPmd, pmd, m);
                        claims.Claim(pte, PageOwnerKind.UserPageTable, pteOf);
                        ptes++;
                        if (!k.Tables.TryGet(pte, out var ptet))
                            continue;
                        CheckEntryCount(ptet, "PTE table", who);
                        for (int x = ptet.NextUsed(0); x < PTRS_PER_TABLE; x = ptet.NextUsed(x + 1))
                        {
                            ulong e = ptet[x];
                            if (pte_none(e) || pte_special(e) || (e & _PAGE_PRESENT) == 0 && (e & _PAGE_PROTNONE) == 0)
                                continue;
                            claims.Claim(pte_pfn(e), PageOwnerKind.UserAnon, anonOf);
                            anon++;
                        }
                    }
                }
            }
            result[proc] = new MmCounts(puds, pmds, ptes, anon);
        }
        return result;
    }
}
