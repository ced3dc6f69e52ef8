using System.Runtime.InteropServices;

namespace KernelMm.Harness.Bench;

/// <summary>
/// The CPU time (user plus system) of this process's waited-for children,
/// <c>getrusage(RUSAGE_CHILDREN)</c>: on a machine shared with other work the wall time of a
/// child <c>kmm run</c> says how busy the machine was, its CPU time what the run cost.
/// </summary>
public static class ChildCpuTime
{
    private const int RUSAGE_CHILDREN = -1;

    [StructLayout(LayoutKind.Sequential)]
    private struct Rusage
    {
        public long UtimeSec, UtimeUsec, StimeSec, StimeUsec;
        // ru_maxrss .. ru_nivcsw: 14 longs the figure does not need.
        public long M0, M1, M2, M3, M4, M5, M6, M7, M8, M9, M10, M11, M12, M13;
    }

#pragma warning disable SYSLIB1054 // a blittable struct: no generated marshalling needed.
    [DllImport("libc", EntryPoint = "getrusage", SetLastError = true)]
    private static extern int GetRusage(int who, out Rusage usage);
#pragma warning restore SYSLIB1054

    /// <summary>Seconds of CPU the children used so far, or null where getrusage is not there (not Linux).</summary>
    public static double? Seconds()
    {
        if (!OperatingSystem.IsLinux() || GetRusage(RUSAGE_CHILDREN, out var u) != 0)
            return null;
        return u.UtimeSec + u.StimeSec + (u.UtimeUsec + u.StimeUsec) / 1e6;
    }
}
