using System.Buffers.Binary;
using System.Globalization;

namespace KernelMm.Harness.Oracle;

/// <summary>
/// Reads a host task's figures the way a developer would: /proc/PID/status, stat (minflt),
/// maps and pagemap. Readings are repeated until two in a row agree, so a reading never
/// catches the kernel half-way.
/// </summary>
internal static class HostProcFiles
{
    /// <summary>Whether the task has exited (a zombie or reaped): its mm is gone either way.</summary>
    public static bool IsGone(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            int close = stat.LastIndexOf(')');
            char state = close >= 0 && close + 2 < stat.Length ? stat[close + 2] : '?';
            return state is 'Z' or 'X';
        }
        catch (IOException) { return true; }
        catch (UnauthorizedAccessException) { return true; }
    }

    public static IReadOnlyDictionary<string, long> Status(int pid)
    {
        var d = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string line in File.ReadAllLines($"/proc/{pid}/status"))
        {
            int colon = line.IndexOf(':');
            if (colon <= 0 || !line.EndsWith(" kB", StringComparison.Ordinal))
                continue;
            string v = line[(colon + 1)..^3].Trim();
            if (long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out long kb))
                d[line[..colon]] = kb;
        }
        return d;
    }

    /// <summary>Field 10 of /proc/PID/stat: minor faults.</summary>
    public static long MinFlt(int pid)
    {
        string stat = File.ReadAllText($"/proc/{pid}/stat");
        string[] f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // f[0] is field 3 (state): minflt (field 10) is f[7].
        return long.Parse(f[7], CultureInfo.InvariantCulture);
    }

    public static List<(ulong Start, ulong End, string Perms)> Maps(int pid) => ParseMaps(File.ReadAllLines($"/proc/{pid}/maps"));

    public static List<(ulong Start, ulong End, string Perms)> ParseMaps(IEnumerable<string> lines)
    {
        var list = new List<(ulong, ulong, string)>();
        foreach (string line in lines)
        {
            int dash = line.IndexOf('-'), sp = line.IndexOf(' ');
            if (dash <= 0 || sp <= dash)
                continue;
            ulong s = ulong.Parse(line[..dash], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong e = ulong.Parse(line[(dash + 1)..sp], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            list.Add((s, e, line.Substring(sp + 1, 4)));
        }
        return list;
    }

    // /proc/PID/pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst): present, and the pfn (0 unless CAP_SYS_ADMIN).
    internal const ulong PM_PRESENT = 1UL << 63, PFN_MASK = (1UL << 55) - 1;

    /// <summary>Present pages in [start, end) and, of those, how many map <paramref name="zeroPfn"/> (when known).</summary>
    public static (long Present, long Zero) Pagemap(int pid, ulong start, ulong end, long zeroPfn)
    {
        long present = 0, zero = 0;
        using var f = new FileStream($"/proc/{pid}/pagemap", FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        var buf = new byte[8 * 8192];
        for (ulong a = start; a < end;)
        {
            int pages = (int)Math.Min(8192UL, (end - a) >> 12);
            f.Position = (long)(a >> 12) * 8;
            f.ReadExactly(buf, 0, pages * 8);
            for (int i = 0; i < pages; i++)
            {
                ulong e = BinaryPrimitives.ReadUInt64LittleEndian(buf.AsSpan(i * 8));
                if ((e & PM_PRESENT) == 0)
                    continue;
                present++;
                if (zeroPfn > 0 && (long)(e & PFN_MASK) == zeroPfn)
                    zero++;
            }
            a += (ulong)pages << 12;
        }
        return (present, zero);
    }
}
