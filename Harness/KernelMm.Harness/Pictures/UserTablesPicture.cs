using System.Globalization;
using System.Text.RegularExpressions;
using KernelMm.Model;
using KernelMm.Model.Mm;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Harness.Pictures;

/// <summary>
/// A process's user page tables drawn: one row per PMD table (1 GiB of virtual address space),
/// one cell per PMD entry (2 MiB), coloured by what the entry holds: no PTE table, a PTE table
/// with no entries (what pte-refcount's free_ptes frees), one mapping only the zero page
/// (the other thing it frees), one mapping pages, or a 2M leaf. Only the gigabytes that have a
/// PMD table are drawn, at most <see cref="MaxRows"/> of them (the rest are counted).
/// From the model every entry's pfn is known; the ptdump text prints no pfn, so there the third
/// colour means "read-only entries only" (the zero page, or pages fork or mprotect made read-only).
/// </summary>
public static partial class UserTablesPicture
{
    /// <summary>Rows drawn at most.</summary>
    public const int MaxRows = 64;

    public const int NoTable = 0, EmptyTable = 1, ZeroOnly = 2, Mapped = 3, Leaf2M = 4;

    private static IReadOnlyList<MapKind> KindsFor(bool fromModel) =>
    [
        new("#e6e6e6", "no PTE table"),
        new("#9ec5e8", "PTE table, empty"),
        new("#f4e04d", fromModel ? "PTE table, zero page only" : "PTE table, read-only entries only (zero page or write-protected)"),
        new("#1f4e96", "PTE table, mapping pages"),
        new("#7b3fa0", "2M leaf"),
    ];

    /// <summary>The process's tables from the model.</summary>
    public static MapPicture FromKernel(Kernel k, Process p)
    {
        var rows = new List<MapRow>();
        int more = 0;
        var pgd = k.Tables[p.Mm.Pgd];
        for (int gi = 0; gi < pgd_index(KernelLayout.USER_SPACE_END); gi++)
        {
            ulong g = pgd[gi];
            if (pgd_none(g))
                continue;
            var pud = k.Tables[pte_pfn(g)];
            for (int ui = 0; ui < PTRS_PER_TABLE; ui++)
            {
                ulong u = pud[ui];
                if (pud_none(u) || pud_large(u) || !pud_present(u))
                    continue;
                if (rows.Count == MaxRows)
                {
                    more++;
                    continue;
                }
                ulong start = ((ulong)gi << PGDIR_SHIFT) | ((ulong)ui << PUD_SHIFT);
                var pmd = k.Tables[pud_pfn(u)];
                var cells = new MapCell[PTRS_PER_TABLE];
                for (int mi = 0; mi < PTRS_PER_TABLE; mi++)
                    cells[mi] = PmdCell(k, pmd[mi]);
                rows.Add(new MapRow(start, ByteSize.Hex(start), cells));
            }
        }
        return Picture($"process {p.Pid} ({p.Comm}): user page tables", true, rows, more);
    }

    private static MapCell PmdCell(Kernel k, ulong e)
    {
        if (pmd_none(e))
            return new MapCell(NoTable, MapMarks.None, "no PTE table");
        if (pmd_large(e))
            return new MapCell(Leaf2M, MapMarks.None, "2M leaf");
        var pte = k.Tables[pmd_pfn(e)];
        int zero = 0, pages = 0, other = 0;
        for (int i = pte.NextUsed(0); i < PTRS_PER_TABLE; i = pte.NextUsed(i + 1))
        {
            ulong v = pte[i];
            if (pte_none(v))
                continue;
            if (!pte_present(v))
                other++;
            else if (pte_pfn(v) == k.ZeroPfn)
                zero++;
            else
                pages++;
        }
        int kind = pages + other > 0 ? Mapped : zero > 0 ? ZeroOnly : EmptyTable;
        string detail = kind == EmptyTable
            ? "PTE table, no entries"
            : $"PTE table: pages {pages}, zero page {zero}{(other > 0 ? $", not present {other}" : "")}, none {PTRS_PER_TABLE - pages - zero - other}";
        return new MapCell(kind, MapMarks.None, detail);
    }

    /// <summary>
    /// The process's tables from its user page-table dump (a snapshot's "user page tables:"):
    /// a line at pte level lies in a PTE table, a blank line at pmd level is a PMD entry with no
    /// table, and any pmd or pte line shows a PMD table there.
    /// </summary>
    public static MapPicture FromPtDump(int pid, string comm, string dump)
    {
        // Per 2 MiB cell, 4K entries: [blank, ro, rw] at pte level; a pmd line marks [no table] or [2M leaf].
        var cells = new SortedDictionary<ulong, long[]>();
        foreach (var line in dump.Split('\n'))
        {
            var m = DumpLine().Match(line);
            if (!m.Success || m.Groups[4].Value is not ("pmd" or "pte"))
                continue;
            ulong start = ulong.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong end = ulong.Parse(m.Groups[2].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (start >= KernelLayout.USER_SPACE_END)
                continue;
            end = Math.Min(end == 0 ? KernelLayout.USER_SPACE_END : end, KernelLayout.USER_SPACE_END);
            var words = m.Groups[3].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            int slot = m.Groups[4].Value == "pmd" ? (words.Length == 0 ? 3 : 4) : words.Length == 0 ? 0 : words.Contains("ro") ? 1 : 2;
            for (ulong a = start; a < end;)
            {
                ulong cell = a & ~(PMD_SIZE - 1);
                ulong next = Math.Min(cell + PMD_SIZE, end);
                if (!cells.TryGetValue(cell, out var c))
                    cells[cell] = c = new long[5];
                c[slot] += (long)((next - a) / PAGE_SIZE);
                a = next;
            }
        }

        var rows = new List<MapRow>();
        int more = 0;
        foreach (var gib in cells.Keys.GroupBy(c => c & ~(PUD_SIZE - 1)))
        {
            if (rows.Count == MaxRows)
            {
                more++;
                continue;
            }
            var row = new MapCell[PTRS_PER_TABLE];
            for (int i = 0; i < PTRS_PER_TABLE; i++)
                row[i] = cells.TryGetValue(gib.Key + (ulong)i * PMD_SIZE, out var c) ? TextCell(c) : new MapCell(NoTable, MapMarks.None, "no PTE table");
            rows.Add(new MapRow(gib.Key, ByteSize.Hex(gib.Key), row));
        }
        return Picture($"process {pid} ({comm}): user page tables", false, rows, more);
    }

    private static MapCell TextCell(long[] c)
    {
        if (c[4] > 0)
            return new MapCell(Leaf2M, MapMarks.None, "2M leaf");
        if (c[0] + c[1] + c[2] == 0)
            return new MapCell(NoTable, MapMarks.None, "no PTE table");
        int kind = c[2] > 0 ? Mapped : c[1] > 0 ? ZeroOnly : EmptyTable;
        string detail = kind == EmptyTable
            ? "PTE table, no entries"
            : $"PTE table: read-write {c[2]}, read-only {c[1]}, none {c[0]}";
        return new MapCell(kind, MapMarks.None, detail);
    }

    private static MapPicture Picture(string title, bool fromModel, List<MapRow> rows, int more)
    {
        var notes = new List<string> { "one row = one PMD table (1G of virtual addresses), one cell = one PMD entry (2M)" };
        if (rows.Count == 0)
            notes.Add("no PMD table in user space");
        if (more > 0)
            notes.Add($"{more} more PMD tables not drawn (the first {MaxRows} are)");
        if (!fromModel)
            notes.Add("drawn from the ptdump text, which prints no pfn: zero-page entries and write-protected pages look alike");
        return new MapPicture(title, KindsFor(fromModel), MapMarks.None, notes, PMD_SIZE, rows);
    }

    [GeneratedRegex(@"^0x([0-9a-f]{16})-0x([0-9a-f]{16}) +\d+[BKMGTPE] (.*?) ?(pgd|p4d|pud|pmd|pte)$")]
    private static partial Regex DumpLine();
}
