using System.Runtime.InteropServices;

namespace KernelMm.Harness.Bench;

/// <summary>
/// The calling thread's CPU time (user plus system), <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>,
/// exact to the nanosecond where getrusage's is only as fine as the scheduler tick. On a
/// shared machine a figure's wall time says how busy the machine was, its CPU time what the
/// work cost: the host's faults are system time of the same thread, so the two compare.
/// </summary>
public static class ThreadCpuTime
{
    private const int CLOCK_THREAD_CPUTIME_ID = 3;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Sec, Nsec;
    }

#pragma warning disable SYSLIB1054 // a blittable struct: no generated marshalling needed.
    [DllImport("libc", EntryPoint = "clock_gettime", SetLastError = true)]
    private static extern int ClockGettime(int clock, out Timespec ts);
#pragma warning restore SYSLIB1054

    /// <summary>Seconds of CPU this thread used so far, or NaN where the clock is not there (not Linux).</summary>
    public static double Seconds() =>
        OperatingSystem.IsLinux() && ClockGettime(CLOCK_THREAD_CPUTIME_ID, out var ts) == 0 ? ts.Sec + ts.Nsec / 1e9 : double.NaN;

    /// <summary>Wall and CPU seconds of <paramref name="a"/> on this thread.</summary>
    public static (double Wall, double Cpu) Time(Action a)
    {
        double c0 = Seconds();
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        a();
        double wall = System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
        return (wall, Seconds() - c0);
    }
}
