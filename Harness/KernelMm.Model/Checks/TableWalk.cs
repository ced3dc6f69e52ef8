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

    private readonly Dictionary<long, string> _parent = [];

    /// <summary>Kernel tables with a constructor (PageTable), which count in nr_page_table_pages.</summary>
    public long KernelCtorTables { get; private set; }

    private void Reach(long tablePfn, string from)
    {
        if (_parent.TryGetValue(tablePfn, out var first))
        {
            findings.Add(new KernelWarning("pt-accounting", $"table pfn:{tablePfn:x5} is linked from {first} and from {from}"));
            return;
        }
        _parent[tablePfn] = from;
        if (!k.Tables.IsTable(tablePfn))
            findings.Add(new KernelWarning("pt-accounting", $"{from} points at pfn:{tablePfn:x5}, which holds no table (freed?)"));
    }

    public void WalkKernel()
    {
        WalkKernelTree(k.InitTopPgt, "init_mm");
        if (k.Kaiser is not null)
            WalkKernelTree(k.Image.InitShadowPgtPfn, "shadow pgd");
    }

    private void WalkKernelTree(long pgdPfn, string name)
    {
        var pgd = k.Tables[pgdPfn];
        for (int i = 256; i < 512; i++)
        {
            if (pgd_none(pgd[i]))
                continue;
            long pud = pte_pfn(pgd[i]);
            Reach(pud, $"{name} pgd[{i}]");
            ClaimKernelTable(pud);
            if (!k.Tables.TryGet(pud, out var pudt))
                continue;
            for (int j = 0; j < 512; j++)
            {
                if (pud_none(pudt[j]) || pud_large(pudt[j]) || !pud_present(pudt[j]))
                    continue;
                long pmd = pud_pfn(pudt[j]);
                Reach(pmd, $"{name} pud pfn:{pud:x5}[{j}]");
                ClaimKernelTable(pmd);
                if (!k.Tables.TryGet(pmd, out var pmdt))
                    continue;
                for (int m = 0; m < 512; m++)
                {
                    if (pmd_none(pmdt[m]) || pmd_large(pmdt[m]) || !pmd_present(pmdt[m]))
                        continue;
                    long pte = pmd_pfn(pmdt[m]);
                    Reach(pte, $"{name} pmd pfn:{pmd:x5}[{m}]");
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

    public IReadOnlyDictionary<Process, MmCounts> WalkProcesses()
    {
        var result = new Dictionary<Process, MmCounts>();
        var init = k.Tables[k.InitTopPgt];
        foreach (var proc in k.Processes)
        {
            var mm = proc.Mm;
            string who = proc.ToString();
            claims.Claim(mm.Pgd, PageOwnerKind.UserPageTable, $"pgd of {who}");
            if (mm.ShadowPgd >= 0)
                claims.Claim(mm.ShadowPgd, PageOwnerKind.UserPageTable, $"shadow pgd of {who}");
            var pgd = k.Tables[mm.Pgd];
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
                Reach(pud, $"{who} pgd[{i}]");
                claims.Claim(pud, PageOwnerKind.UserPageTable, $"PUD table of {who}");
                puds++;
                if (!k.Tables.TryGet(pud, out var pudt))
                    continue;
                for (int j = 0; j < 512; j++)
                {
                    if (pud_none(pudt[j]))
                        continue;
                    long pmd = pud_pfn(pudt[j]);
                    Reach(pmd, $"{who} pud pfn:{pud:x5}[{j}]");
                    claims.Claim(pmd, PageOwnerKind.UserPageTable, $"PMD table of {who}");
                    pmds++;
                    if (!k.Tables.TryGet(pmd, out var pmdt))
                        continue;
                    for (int m = 0; m < 512; m++)
                    {
                        if (pmd_none(pmdt[m]))
                            continue;
                        long pte = pmd_pfn(pmdt[m]);
                        Reach(pte, $"{who} pmd pfn:{pmd:x5}[{m}]");
                        claims.Claim(pte, PageOwnerKind.UserPageTable, $"PTE table of {who}");
                        ptes++;
                        if (!k.Tables.TryGet(pte, out var ptet))
                            continue;
                        for (int x = ptet.NextUsed(0); x < PTRS_PER_TABLE; x = ptet.NextUsed(x + 1))
                        {
                            ulong e = ptet[x];
                            if (pte_none(e) || pte_special(e) || (e & _PAGE_PRESENT) == 0 && (e & _PAGE_PROTNONE) == 0)
                                continue;
                            claims.Claim(pte_pfn(e), PageOwnerKind.UserAnon, $"anonymous memory of {who}");
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
