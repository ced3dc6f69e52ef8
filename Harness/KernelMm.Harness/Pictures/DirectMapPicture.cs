using System.Globalization;
using System.Text;
using KernelMm.Model.Paging;

namespace KernelMm.Harness.Pictures;

/// <summary>
/// The direct map drawn: one cell per 2 MiB of physical memory, 512 to a row (a row is
/// 1 GiB), coloured by the leaf size that maps it (1G, 2M, 4K; grey where no entry does),
/// with a strip under it per attribute (ro, NX cleared, not present, PKS key,
/// <c>_PAGE_KERNEL_4K</c>) and the DirectMap counters beside it.
/// A machine larger than <see cref="MaxRows"/> GiB aggregates: a cell covers the smallest
/// power-of-two multiple of 2 MiB that keeps the map within <see cref="MaxRows"/> rows (32 MiB
/// cells and 16 GiB rows at 1 TiB); its colour is the smallest leaf anywhere in it (one split
/// 2M range makes the cell 4K, so fragmentation never hides) and each strip is drawn when any
/// page in it has the attribute; the tooltip gives the bytes of each.
/// </summary>
public static class DirectMapPicture
{
    /// <summary>Rows at most before cells aggregate.</summary>
    public const int MaxRows = 64;

    /// <summary>The finest cell: one PMD's worth.</summary>
    public const ulong CellBytes = PageShifts.PMD_SIZE;

    public const int NoEntry = 0, Leaf1G = 1, Leaf2M = 2, Leaf4K = 3;

    /// <summary>The colours: grey for no entry, then 1G green, 2M amber, 4K red (the more split, the hotter).</summary>
    public static readonly IReadOnlyList<MapKind> Kinds =
    [
        new("#d9d9d9", "no entry"),
        new("#2e7d32", "1G leaf"),
        new("#f2b01e", "2M leaf"),
        new("#d32f2f", "4K leaves"),
    ];

    /// <summary>The cell size for a map of <paramref name="extent"/> bytes.</summary>
    public static ulong CellSizeFor(ulong extent)
    {
        ulong cell = CellBytes;
        while (Ceil(extent, cell * MapPicture.CellsPerRow) > MaxRows)
            cell <<= 1;
        return cell;
    }

    /// <param name="source">The leaves.</param>
    /// <param name="title">The heading.</param>
    /// <param name="counters">The meminfo lines DirectMap4k/2M/1G (kB) of the same state, printed beside the map.</param>
    public static MapPicture Build(DirectMapSource source, string title, IEnumerable<(string Name, long Kb)> counters)
    {
        ulong cell = CellSizeFor(source.Extent);
        long cells = (long)Ceil(source.Extent, cell);
        // Bytes per cell by leaf level (PageLevel index 0..3) and by mark bit (5 marks).
        var levelBytes = new ulong[cells, 4];
        var markBytes = new ulong[cells, 5];
        var mapped = new ulong[4];
        foreach (var leaf in source.Leaves)
        {
            int level = (int)leaf.Level;
            mapped[level] += leaf.Size;
            for (ulong a = leaf.Phys; a < leaf.End;)
            {
                long c = (long)(a / cell);
                ulong cellEnd = Math.Min((ulong)(c + 1) * cell, leaf.End);
                ulong n = cellEnd - a;
                levelBytes[c, level] += n;
                for (int b = 0; b < 5; b++)
                    if (((int)leaf.Marks & (1 << b)) != 0)
                        markBytes[c, b] += n;
                a = cellEnd;
            }
        }

        var rows = new List<MapRow>();
        ulong rowBytes = cell * MapPicture.CellsPerRow;
        for (long r = 0; r * MapPicture.CellsPerRow < cells; r++)
        {
            var row = new List<MapCell>();
            for (long c = r * MapPicture.CellsPerRow; c < Math.Min(cells, (r + 1) * MapPicture.CellsPerRow); c++)
            {
                ulong size = Math.Min(cell, source.Extent - (ulong)c * cell);
                row.Add(Cell(levelBytes, markBytes, c, size));
            }
            ulong start = (ulong)r * rowBytes;
            rows.Add(new MapRow(start, ByteSize.Text(start) is "0B" ? "0" : ByteSize.Text(start), row));
        }

        var notes = new List<string>
        {
            cell == CellBytes
                ? $"one cell = 2M of physical memory, one row = 1G; {ByteSize.Text(source.Extent)} mapped from PAGE_OFFSET"
                : $"one cell = {ByteSize.Text(cell)} (aggregated to keep {MaxRows} rows: coloured by the smallest leaf in it, a strip where any page in it has the attribute), one row = {ByteSize.Text(rowBytes)}; {ByteSize.Text(source.Extent)} mapped from PAGE_OFFSET",
            string.Join("   ", counters.Where(c => c.Name.StartsWith("DirectMap", StringComparison.Ordinal)).Select(c => $"{c.Name}: {c.Kb.ToString(CultureInfo.InvariantCulture)} kB")),
            $"the leaves map: 4K {Kb(mapped[(int)PageLevel.PG_LEVEL_4K])} kB   2M {Kb(mapped[(int)PageLevel.PG_LEVEL_2M])} kB   1G {Kb(mapped[(int)PageLevel.PG_LEVEL_1G])} kB",
        };
        if ((source.Known & MapMarks.All) != MapMarks.All)
            notes.Add("drawn from the ptdump text, which prints neither the PKS key nor _PAGE_KERNEL_4K (and a not-present entry like a missing one): `kmm show --svg` draws them from the model");
        return new MapPicture(title, Kinds, source.Known, notes, cell, rows);

        static string Kb(ulong bytes) => (bytes >> 10).ToString(CultureInfo.InvariantCulture);
    }

    private static MapCell Cell(ulong[,] levelBytes, ulong[,] markBytes, long c, ulong size)
    {
        int kind = levelBytes[c, (int)PageLevel.PG_LEVEL_4K] > 0 ? Leaf4K
            : levelBytes[c, (int)PageLevel.PG_LEVEL_2M] > 0 ? Leaf2M
            : levelBytes[c, (int)PageLevel.PG_LEVEL_1G] > 0 ? Leaf1G
            : NoEntry;
        var sb = new StringBuilder();
        var parts = new List<string>();
        foreach (var (level, name) in new[] { (PageLevel.PG_LEVEL_4K, "4K leaves"), (PageLevel.PG_LEVEL_2M, "2M leaf"), (PageLevel.PG_LEVEL_1G, "1G leaf"), (PageLevel.PG_LEVEL_NONE, "no entry") })
        {
            ulong n = levelBytes[c, (int)level];
            if (n == size)
                parts.Add(name);
            else if (n > 0)
                parts.Add($"{name} {ByteSize.Text(n)}");
        }
        sb.Append(string.Join(", ", parts));
        var marks = MapMarks.None;
        for (int b = 0; b < 5; b++)
        {
            ulong n = markBytes[c, b];
            if (n == 0)
                continue;
            marks |= (MapMarks)(1 << b);
            sb.Append("; ").Append(MarkNames[b]);
            if (n != size)
                sb.Append(' ').Append(ByteSize.Text(n));
        }
        return new MapCell(kind, marks, sb.ToString());
    }

    /// <summary>The marks' names, by bit, as tooltips and the legend say them.</summary>
    public static readonly string[] MarkNames = ["ro", "x (NX cleared)", "not present", "PKS key", "_PAGE_KERNEL_4K"];

    private static ulong Ceil(ulong a, ulong b) => (a + b - 1) / b;
}
