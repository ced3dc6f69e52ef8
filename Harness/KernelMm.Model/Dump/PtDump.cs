using System.Text;
using KernelMm.Model.Paging;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Dump;

/// <summary>
/// The x86 page-table dump (debugfs kernel_page_tables) as 5.6+ prints it: the generic
/// walker of mm/ptdump.c over [0, 2^47) and [GUARD_HOLE_END_ADDR, ~0], and the x86
/// note_page/effective_prot/printk_prot of arch/x86/mm/dump_pagetables.c. Consecutive
/// entries are coalesced while the raw flags (printed or not), the effective
/// permissions and the level stay the same and no marker is crossed; a marker is printed
/// at the first flush that reaches it, one per flush, as the kernel does.
/// </summary>
public sealed class PtDump
{
    private static readonly string[] LevelName = ["pgd", "p4d", "pud", "pmd", "pte"];
    private const string Units = "BKMGTPE";

    private readonly PageTableStore _tables;
    private readonly StringBuilder _out = new();
    private readonly AddressMarker[] _markers;
    private readonly ulong[] _protLevels = new ulong[5];
    private int _level = -1;
    private ulong _currentProt, _effectiveProt, _startAddress;
    private int _marker;
    private long _lines;

    private PtDump(PageTableStore tables, AddressMarker[] markers, bool checkWx)
    {
        _tables = tables;
        _markers = markers;
        CheckWx = checkWx;
    }

    private bool CheckWx { get; }

    /// <summary>Pages mapped writable and executable (the W+X check's count).</summary>
    public long WxPages { get; private set; }

    /// <summary>The dump's text.</summary>
    public string Text => _out.ToString();

    /// <summary>Dumps the tables under <paramref name="pgdPfn"/>, as kernel_page_tables (or current_user for a user pgd).</summary>
    public static PtDump Walk(PageTableStore tables, long pgdPfn, bool checkWx = true, AddressMarker[]? markers = null) =>
        Walk(tables, pgdPfn, checkWx, markers, summarizeSilentTables: true);

    /// <summary>The dump, with or without the summed-up silent tables (tests compare the two).</summary>
    internal static PtDump Walk(PageTableStore tables, long pgdPfn, bool checkWx, AddressMarker[]? markers, bool summarizeSilentTables)
    {
        var d = new PtDump(tables, markers ?? AddressMarker.X86_64, checkWx) { _summarize = summarizeSilentTables };
        d.WalkRange(pgdPfn, 0, KernelLayout.USER_SPACE_END);
        d.WalkRange(pgdPfn, KernelLayout.GUARD_HOLE_END_ADDR, ulong.MaxValue);
        d.NotePage(0, -1, 0);
        return d;
    }

    /// <summary>The user half of a pgd only (User Space marker), as a per-process view.</summary>
    public static PtDump WalkUser(PageTableStore tables, long pgdPfn)
    {
        var d = new PtDump(tables, [new AddressMarker(0, "User Space"), new AddressMarker(ulong.MaxValue, null)], checkWx: false);
        d.WalkRange(pgdPfn, 0, KernelLayout.USER_SPACE_END);
        d.NotePage(KernelLayout.USER_SPACE_END, -1, 0);
        return d;
    }

    /// <summary>
    /// The one dump line that ends in a space, as note_page prints it when a marker's
    /// max_lines cut the dump: "... N entries skipped ... ".
    /// </summary>
    public static readonly System.Text.RegularExpressions.Regex SkippedLine = new(@"^\.\.\. [0-9]+ entr(y|ies) skipped \.\.\. $", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    /// <summary>The W+X line the kernel logs after the check.</summary>
    public string WxSummary => WxPages == 0
        ? "x86/mm: Checked W+X mappings: passed, no W+X pages found."
        : $"x86/mm: Checked W+X mappings: FAILED, {WxPages} W+X pages found.";

    // walk_page_range_novma over one range; end is inclusive of its last page when ~0.
    private void WalkRange(long pgdPfn, ulong start, ulong end)
    {
        var pgd = _tables[pgdPfn];
        ulong last = end - 1;
        for (ulong addr = start; ;)
        {
            ulong e = pgd[pgd_index(addr)];
            // The p4d is folded: pgd_entry, then the p4d check of the same entry.
            EffectiveProt(0, e);
            if (pgd_none(e))
            {
                NotePage(addr, 0, 0); // real_depth(1) == 0 with a folded p4d
            }
            else
            {
                EffectiveProt(1, e);
                WalkPud(_tables[pte_pfn(e)], addr);
            }
            ulong next = addr + PGDIR_SIZE;
            if (next == 0 || next - 1 >= last)
                break;
            addr = next;
        }
    }

    private void WalkPud(PageTable pud, ulong baseAddr)
    {
        for (int i = 0; i < PTRS_PER_TABLE; i++)
        {
            ulong addr = baseAddr + (ulong)i * PUD_SIZE;
            ulong e = pud[i];
            if (pud_none(e) && SkipsNone(2, ref i, pud, baseAddr, PUD_SIZE))
                continue;
            if (pud_none(e))
            {
                NotePage(addr, 2, 0);
                continue;
            }
            EffectiveProt(2, e);
            if (pud_large(e))
                NotePage(addr, 2, e);
            else if (pud_present(e))
                WalkPmd(_tables[pud_pfn(e)], addr);
        }
    }

    private void WalkPmd(PageTable pmd, ulong baseAddr)
    {
        for (int i = 0; i < PTRS_PER_TABLE; i++)
        {
            ulong addr = baseAddr + (ulong)i * PMD_SIZE;
            ulong e = pmd[i];
            if (pmd_none(e) && SkipsNone(3, ref i, pmd, baseAddr, PMD_SIZE))
                continue;
            if (pmd_none(e))
            {
                NotePage(addr, 3, 0);
                continue;
            }
            EffectiveProt(3, e);
            if (pmd_large(e))
                NotePage(addr, 3, e);
            else if (pmd_present(e))
                WalkPte(_tables[pmd_pfn(e)], addr);
            // A not-present, non-leaf entry is neither noted nor walked (mm/pagewalk.c).
        }
    }

    /// <summary>
    /// A PTE table, entry by entry. A table kept full (a split direct-map page, a populated
    /// user table) is read in place, and after each noted entry the entries that follow with
    /// the same flags (and none the same way) are skipped while no marker starts among them:
    /// for each of them EffectiveProt would compute the same prot and NotePage return at once,
    /// so the output is the same.
    /// </summary>
    private void WalkPte(PageTable pte, ulong baseAddr)
    {
        if (SkipsSilentTable(pte, baseAddr))
            return;
        bool full = pte.TryGetDense(out var entries);
        for (int i = 0; i < PTRS_PER_TABLE; i++)
        {
            ulong addr = baseAddr + (ulong)i * PAGE_SIZE;
            ulong e = full ? entries[i] : pte[i];
            if (pte_none(e) && SkipsNone(4, ref i, pte, baseAddr, PAGE_SIZE))
                continue;
            EffectiveProt(4, e);
            NotePage(addr, 4, e);
            if (full)
                i = Math.Max(i, Math.Min(LastBeforeNextMarker(baseAddr), RunEnd(entries, i + 1, e) - 1));
        }
    }

    /// <summary>
    /// A PTE table in a marker whose max_lines are used up, wholly before the next marker
    /// (the ESPfix area: 64 changes in each of the thousands of pmd entries that clone one
    /// table): note_page prints nothing for it, only counts lines and W+X pages, so the table's
    /// runs are summed up once per dump (<see cref="TableRuns"/>) and applied at once. The
    /// counts and the state after it are what noting each entry gives.
    /// </summary>
    private bool SkipsSilentTable(PageTable pte, ulong baseAddr)
    {
        var m = _markers[_marker];
        if (!_summarize || _level < 0 || m.MaxLines == 0 || _lines < m.MaxLines || baseAddr + (PMD_SIZE - 1) >= _markers[_marker + 1].StartAddress)
            return false;
        ulong upper = _protLevels[3];
        _runs ??= [];
        if (!_runs.TryGetValue((pte.Pfn, upper), out var r))
            _runs[(pte.Pfn, upper)] = r = TableRuns.Of(pte, upper);
        bool merges = r.FirstProt == _currentProt && r.FirstEff == _effectiveProt && _level == 4;
        if (merges && r.Groups == 1)
        {
            SilentTables++;
            return true; // the open range goes on through the table
        }
        if (CheckWx)
            WxPages += (IsWx(_effectiveProt) ? (long)((baseAddr - _startAddress) / PAGE_SIZE) : 0) + r.WxPagesBeforeLast;
        _lines += (merges ? 0 : 1) + r.Groups - 1;
        _startAddress = baseAddr + (ulong)r.LastStart * PAGE_SIZE;
        _currentProt = r.LastProt;
        _effectiveProt = r.LastEff;
        _level = 4;
        SilentTables++;
        return true;
    }

    private bool _summarize = true;

    /// <summary>PTE tables summed up instead of noted entry by entry.</summary>
    internal int SilentTables { get; private set; }

    private Dictionary<(long Pfn, ulong Upper), TableRuns>? _runs;

    private static bool IsWx(ulong eff) => (eff & _PAGE_RW) != 0 && (eff & _PAGE_NX) == 0;

    /// <summary>
    /// A PTE table as note_page sees it under upper-level rights <c>Upper</c>: its groups of
    /// consecutive entries with the same prot and effective prot, the first and the last
    /// group, and the W+X pages of all groups but the last.
    /// </summary>
    private readonly record struct TableRuns(int Groups, ulong FirstProt, ulong FirstEff, ulong LastProt, ulong LastEff, int LastStart, long WxPagesBeforeLast)
    {
        public static TableRuns Of(PageTable pte, ulong upper)
        {
            bool full = pte.TryGetDense(out var entries);
            int groups = 0, lastStart = 0;
            ulong firstProt = 0, firstEff = 0, prot = 0, eff = 0;
            long wx = 0;
            for (int i = 0; i < PTRS_PER_TABLE; i++)
            {
                ulong e = full ? entries[i] : pte[i];
                ulong p = e & PTE_FLAGS_MASK;
                ulong f = e == 0 ? 0 : (upper & p & (_PAGE_USER | _PAGE_RW)) | ((upper | p) & _PAGE_NX);
                if (groups > 0 && p == prot && f == eff)
                    continue;
                if (groups == 0)
                {
                    firstProt = p;
                    firstEff = f;
                }
                else if (IsWx(eff))
                {
                    wx += i - lastStart;
                }
                groups++;
                lastStart = i;
                prot = p;
                eff = f;
            }
            return new TableRuns(groups, firstProt, firstEff, prot, eff, lastStart, wx);
        }
    }

    /// <summary>
    /// The last index of the PTE table at <paramref name="baseAddr"/> before the next marker's
    /// start, which a run may reach; -1 for a marker at or below the table (the final one, at
    /// address 0, stops every run).
    /// </summary>
    private int LastBeforeNextMarker(ulong baseAddr)
    {
        ulong limit = _markers[_marker + 1].StartAddress;
        return limit <= baseAddr ? -1
            : limit - baseAddr >= (ulong)PTRS_PER_TABLE * PAGE_SIZE ? PTRS_PER_TABLE - 1
            : (int)((limit - baseAddr - 1) / PAGE_SIZE);
    }

    /// <summary>
    /// The first index from <paramref name="from"/> whose entry differs from <paramref name="e"/>
    /// in its flags or in being zero (512 if none does): four entries at a time where the
    /// hardware has 256-bit vectors.
    /// </summary>
    private static int RunEnd(ReadOnlySpan<ulong> entries, int from, ulong e)
    {
        ulong flags = e & PTE_FLAGS_MASK;
        int i = from;
        if (e == 0)
        {
            int n = entries[i..].IndexOfAnyExcept(0UL);
            return n < 0 ? entries.Length : i + n;
        }
        if (flags == 0)
        {
            // Not zero, no flags: a run also ends at a zero entry.
            while (i < entries.Length && entries[i] != 0 && (entries[i] & PTE_FLAGS_MASK) == 0)
                i++;
            return i;
        }
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
        {
            var mask = System.Runtime.Intrinsics.Vector256.Create(PTE_FLAGS_MASK);
            var want = System.Runtime.Intrinsics.Vector256.Create(flags);
            for (; i + 4 <= entries.Length; i += 4)
            {
                var v = System.Runtime.Intrinsics.Vector256.Create(entries.Slice(i, 4));
                if (!System.Runtime.Intrinsics.Vector256.EqualsAll(v & mask, want))
                    break;
            }
        }
        // flags != 0, so a matching entry is not zero.
        while (i < entries.Length && (entries[i] & PTE_FLAGS_MASK) == flags)
            i++;
        return i;
    }

    /// <summary>
    /// A run of none entries from <paramref name="i"/> at <paramref name="level"/>, while the
    /// open range is already none at that level and no marker starts inside the run, changes
    /// nothing (NotePage returns at once for each, and a none PTE's effective prot is never
    /// read): jump to the run's last entry. False when the run must be walked entry by entry.
    /// </summary>
    private bool SkipsNone(int level, ref int i, PageTable table, ulong baseAddr, ulong size)
    {
        if (_level != level || _currentProt != 0 || _effectiveProt != 0)
            return false;
        int next = table.NextUsed(i);
        ulong lastAddr = baseAddr + (ulong)(next - 1) * size;
        if (lastAddr >= _markers[_marker + 1].StartAddress)
            return false;
        i = next - 1;
        return true;
    }

    private void EffectiveProt(int level, ulong val)
    {
        ulong prot = val & PTE_FLAGS_MASK;
        if (level > 0)
        {
            ulong higher = _protLevels[level - 1];
            _protLevels[level] = (higher & prot & (_PAGE_USER | _PAGE_RW)) | ((higher | prot) & _PAGE_NX);
        }
        else
        {
            _protLevels[level] = prot;
        }
    }

    private void NotePage(ulong addr, int level, ulong val)
    {
        ulong newProt = val & PTE_FLAGS_MASK;
        ulong newEff = val == 0 ? 0 : _protLevels[level];

        if (_level == -1)
        {
            _currentProt = newProt;
            _effectiveProt = newEff;
            _level = level;
            _marker = 0;
            _lines = 0;
            _out.Append("---[ ").Append(_markers[0].Name).Append(" ]---\n");
            return;
        }
        if (newProt == _currentProt && newEff == _effectiveProt && level == _level && addr < _markers[_marker + 1].StartAddress)
            return;

        if (CheckWx && (_effectiveProt & _PAGE_RW) != 0 && (_effectiveProt & _PAGE_NX) == 0)
            WxPages += (long)((addr - _startAddress) / PAGE_SIZE);

        var m = _markers[_marker];
        if (m.MaxLines == 0 || _lines < m.MaxLines)
        {
            _out.Append("0x").Append(_startAddress.ToString("x16")).Append("-0x").Append(addr.ToString("x16")).Append("   ");
            ulong delta = addr - _startAddress;
            int unit = 0;
            while ((delta & 1023) == 0 && unit < Units.Length - 1)
            {
                delta >>= 10;
                unit++;
            }
            _out.Append(delta.ToString().PadLeft(9)).Append(Units[unit]).Append(' ');
            PrintProt(_currentProt, _level);
        }
        _lines++;

        if (addr >= _markers[_marker + 1].StartAddress)
        {
            if (m.MaxLines != 0 && _lines > m.MaxLines)
            {
                long nskip = _lines - m.MaxLines;
                // "... %lu entr%s skipped ... \n", trailing space and all (note_page); the
                // snapshot text rules exempt this one line (SkippedLine).
                _out.Append("... ").Append(nskip).Append(nskip == 1 ? " entry" : " entries").Append(" skipped ... \n");
            }
            _marker++;
            _lines = 0;
            if (_markers[_marker].Name is { } name)
                _out.Append("---[ ").Append(name).Append(" ]---\n");
        }
        _startAddress = addr;
        _currentProt = newProt;
        _effectiveProt = newEff;
        _level = level;
    }

    private void PrintProt(ulong pr, int level)
    {
        if ((pr & _PAGE_PRESENT) == 0)
        {
            _out.Append(' ', 30);
        }
        else
        {
            _out.Append((pr & _PAGE_USER) != 0 ? "USR " : "    ");
            _out.Append((pr & _PAGE_RW) != 0 ? "RW " : "ro ");
            _out.Append((pr & _PAGE_PWT) != 0 ? "PWT " : "    ");
            _out.Append((pr & _PAGE_PCD) != 0 ? "PCD " : "    ");
            // Bit 7 is PSE up to the pmd level and PAT on a pte.
            _out.Append(level <= 3 && (pr & _PAGE_PSE) != 0 ? "PSE " : "    ");
            bool pat = (level == 4 && (pr & _PAGE_PAT) != 0) || ((level == 3 || level == 2) && (pr & _PAGE_PAT_LARGE) != 0);
            _out.Append(pat ? "PAT " : "    ");
            _out.Append((pr & _PAGE_GLOBAL) != 0 ? "GLB " : "    ");
            _out.Append((pr & _PAGE_NX) != 0 ? "NX " : "x  ");
        }
        _out.Append(LevelName[level]).Append('\n');
    }
}
