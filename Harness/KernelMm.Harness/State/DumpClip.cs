using System.Globalization;
using System.Text;

namespace KernelMm.Harness.State;

/// <summary>
/// A page-table dump limited to an address range: the lines of the whole dump that overlap
/// it, cut at its ends with their sizes printed anew as ptdump prints them, each under its
/// area's marker; "... entries skipped ..." lines go, since what they stand for cannot be cut.
/// The first line names the range, so a reader knows the dump is partial. (The kernel's
/// ptdump walks fixed ranges, mm/ptdump.c's ptdump_walk_pgd over st->range; cutting the
/// whole dump's lines gives what a walk of the smaller range would print, less its marker quirks.)
/// </summary>
public static class DumpClip
{
    private const string Units = "BKMGTPE";
    private const int AddressColumns = 40; // "0x%016lx-0x%016lx   "
    private const int SizeColumns = 11;    // "%9lu%c "

    public static string Clip(string dump, AddressRange range)
    {
        var sb = new StringBuilder();
        sb.Append("only ").Append(range).Append(":\n");
        string? marker = null;
        foreach (var line in dump.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.StartsWith("---[", StringComparison.Ordinal))
            {
                marker = line;
                continue;
            }
            if (line.Length < AddressColumns + SizeColumns || !line.StartsWith("0x", StringComparison.Ordinal) || line[18] != '-')
                continue;
            ulong start = ulong.Parse(line.AsSpan(2, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            ulong end = ulong.Parse(line.AsSpan(21, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            // End 0 is the top of the address space (2^64); compare in "last byte" terms.
            ulong last = end - 1, rangeLast = range.End - 1;
            if (last < range.Start || start > rangeLast)
                continue;
            ulong from = Math.Max(start, range.Start);
            ulong lastByte = Math.Min(last, rangeLast);
            if (marker is not null)
            {
                sb.Append(marker).Append('\n');
                marker = null;
            }
            ulong delta = lastByte - from + 1;
            int unit = 0;
            while (delta != 0 && (delta & 1023) == 0 && unit < Units.Length - 1)
            {
                delta >>= 10;
                unit++;
            }
            sb.Append("0x").Append(from.ToString("x16", CultureInfo.InvariantCulture)).Append("-0x")
              .Append(unchecked(lastByte + 1).ToString("x16", CultureInfo.InvariantCulture)).Append("   ")
              .Append(delta.ToString(CultureInfo.InvariantCulture).PadLeft(9)).Append(Units[unit]).Append(' ')
              .Append(line[(AddressColumns + SizeColumns)..]).Append('\n');
        }
        return sb.ToString();
    }
}
