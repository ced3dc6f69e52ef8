using System.Runtime.InteropServices;

namespace KernelMm.Harness.Oracle;

/// <summary>What this machine's kernel is, as far as the replay cares, and which model kernel it corresponds to.</summary>
public sealed record HostKernelFacts(string Release, bool Pti, string ThpMode, bool PtReclaim)
{
    /// <summary>Lines for the top of the oracle's report.</summary>
    public IEnumerable<string> Describe()
    {
        yield return $"host kernel: Linux {Release} x86_64";
        yield return $"  pti: {(Pti ? "on" : "off")} (/sys/devices/system/cpu/vulnerabilities/meltdown)";
        yield return $"  transparent_hugepage: {ThpMode} (the replay turns THP off per agent with PR_SET_THP_DISABLE)";
        yield return $"  MADV_DONTNEED frees empty PTE tables: {(PtReclaim ? "yes (CONFIG_PT_RECLAIM, 6.14+)" : "no")} (probed)";
    }
}

/// <summary>Probes the host kernel: its release, PTI, THP mode, and PT_RECLAIM by a MADV_DONTNEED probe.</summary>
internal static class HostKernelProbe
{
    /// <summary>The replay needs Linux on x86-64 with /proc; anything else is exit 125.</summary>
    public static void RequireSupportedHost()
    {
        if (!OperatingSystem.IsLinux())
            throw new OracleHostException($"the oracle replays on Linux; this is {RuntimeInformation.OSDescription}");
        if (RuntimeInformation.ProcessArchitecture != Architecture.X64)
            throw new OracleHostException($"the oracle's agent is x86-64 code; this process is {RuntimeInformation.ProcessArchitecture}");
        if (!File.Exists("/proc/self/status") || !File.Exists("/proc/self/pagemap"))
            throw new OracleHostException("/proc (status, maps, pagemap) is not mounted");
    }

    public static HostKernelFacts Probe(HostSession session)
    {
        string release = ReadTrim("/proc/sys/kernel/osrelease") ?? "unknown";
        bool pti = (ReadTrim("/sys/devices/system/cpu/vulnerabilities/meltdown") ?? "").Contains("PTI", StringComparison.Ordinal);
        string thp = ThpMode(ReadTrim("/sys/kernel/mm/transparent_hugepage/enabled"));
        return new HostKernelFacts(release, pti, thp, ProbePtReclaim(session));
    }

    /// <summary>"always [madvise] never" → "madvise".</summary>
    internal static string ThpMode(string? line)
    {
        if (line is null)
            return "not built";
        int a = line.IndexOf('['), b = line.IndexOf(']');
        return a >= 0 && b > a ? line[(a + 1)..b] : line;
    }

    /// <summary>
    /// One page written in a 2 MiB-aligned range, then MADV_DONTNEED of the whole range:
    /// with PT_RECLAIM (mm/pt_reclaim.c, 6.14) the now-empty PTE table is freed at once and
    /// VmPTE drops by 4 kB; without it the table stays until munmap.
    /// </summary>
    private static bool ProbePtReclaim(HostSession session)
    {
        var w = session.Window;
        var agent = session.Spawn(w.ModelBase + (1UL << 30), w.ModelBase + (1UL << 30) + 0x21000);
        try
        {
            ulong at = w.HostBase + (2UL << 30);
            const long len = 2L << 20;
            long got = agent.Syscall(HostLibc.SYS_mmap, (long)at, len, HostLibc.PROT_READ | HostLibc.PROT_WRITE,
                HostLibc.MAP_PRIVATE | HostLibc.MAP_ANONYMOUS | HostLibc.MAP_FIXED_NOREPLACE, -1, 0);
            if (got != (long)at)
                throw new OracleHostException($"the PT_RECLAIM probe's mmap failed ({got})");
            agent.Touch(at, at + 4096, 4096, write: true);
            long before = session.Read(agent).Status.GetValueOrDefault("VmPTE");
            agent.Syscall(HostLibc.SYS_madvise, (long)at, len, 4 /* MADV_DONTNEED */);
            long after = session.Read(agent).Status.GetValueOrDefault("VmPTE");
            return after < before;
        }
        finally
        {
            agent.Exit();
        }
    }

    private static string? ReadTrim(string path)
    {
        try { return File.ReadAllText(path).Trim(); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
