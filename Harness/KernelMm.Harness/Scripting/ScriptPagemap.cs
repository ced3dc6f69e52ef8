using KernelMm.Model.Mm;

namespace KernelMm.Harness.Scripting;

/// <summary>
/// /proc/PID/pagemap over a range, as <c>p.Pagemap(addr, len)</c> read it: one 64-bit entry
/// per page (bit 63 present, 56 exclusively mapped, 0-54 the pfn, shown to root), and the
/// counts a reproducer usually wants.
/// </summary>
public sealed class ScriptPagemap
{
    private readonly long _zeroPfn;

    internal ScriptPagemap(Addr start, ulong[] entries, long zeroPfn)
    {
        Start = start;
        Entries = entries;
        _zeroPfn = zeroPfn;
    }

    /// <summary>The first page's address (the range is widened to whole pages).</summary>
    public Addr Start { get; }

    /// <summary>The raw entries, one per page.</summary>
    public IReadOnlyList<ulong> Entries { get; }

    /// <summary>Pages in the range.</summary>
    public int Pages => Entries.Count;

    /// <summary>Present pages (PM_PRESENT), the zero page included.</summary>
    public int Present => Entries.Count(e => (e & Pagemap.PM_PRESENT) != 0);

    /// <summary>Present pages that map the shared zero page (read faults of anonymous memory).</summary>
    public int ZeroPage => Entries.Count(e => (e & Pagemap.PM_PRESENT) != 0 && (long)(e & Pagemap.PM_PFRAME_MASK) == _zeroPfn);

    /// <summary>Present pages mapped only here (PM_MMAP_EXCLUSIVE): not the zero page, not shared with a fork.</summary>
    public int Exclusive => Entries.Count(e => (e & Pagemap.PM_MMAP_EXCLUSIVE) != 0);

    /// <summary>The pfn of page <paramref name="index"/>, or -1 where it is not present.</summary>
    public long Pfn(int index) => (Entries[index] & Pagemap.PM_PRESENT) != 0 ? (long)(Entries[index] & Pagemap.PM_PFRAME_MASK) : -1;

    public override string ToString() => $"{Pages} pages: {Present} present, {ZeroPage} zero page, {Exclusive} exclusive";
}
