using System.Runtime.InteropServices;

namespace KernelMm.Harness.Bench;

/// <summary>
/// The same anonymous-memory workload as the model's, on this machine's own kernel:
/// <c>mmap(MAP_PRIVATE|MAP_ANONYMOUS)</c>, one access per 4 KiB page, <c>MADV_DONTNEED</c>
/// and <c>munmap</c> through libc. The mapping gets <c>MADV_NOHUGEPAGE</c> first, so the
/// host takes one fault per 4 KiB page as the model does (the model has no THP); a write
/// fault zeroes a real page, a read fault maps the real zero page.
/// </summary>
public static class HostKernel
{
    private const int PROT_READ = 1, PROT_WRITE = 2;
    private const int MAP_PRIVATE = 0x02, MAP_ANONYMOUS = 0x20;
    private const int MADV_DONTNEED = 4, MADV_NOHUGEPAGE = 15;
    private const int PageSize = 4096;

#pragma warning disable SYSLIB1054 // DllImport of blittable signatures needs no generated marshalling (and no unsafe code).
    [DllImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static extern nint Mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [DllImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static extern int Munmap(nint addr, nuint length);

    [DllImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static extern int Madvise(nint addr, nuint length, int advice);
#pragma warning restore SYSLIB1054

    /// <summary>Whether this machine's kernel can be measured (Linux only).</summary>
    public static bool Available => OperatingSystem.IsLinux();

    /// <summary>The four timings of one run, in wall seconds, the pages each covered, and the same timings in CPU seconds of this thread.</summary>
    public readonly record struct Run(double WriteFaults, double ReadFaults, double DontNeed, double Munmap, long Pages,
        double WriteFaultsCpu, double ReadFaultsCpu, double DontNeedCpu, double MunmapCpu);

    public static Run Measure(long bytes)
    {
        long pages = bytes / PageSize;
        var len = (nuint)bytes;

        // Write faults, then MADV_DONTNEED of the written pages.
        nint a = Map(len);
        var write = ThreadCpuTime.Time(() => TouchWrite(a, pages));
        var dontneed = ThreadCpuTime.Time(() => Check(Madvise(a, len, MADV_DONTNEED), "madvise(MADV_DONTNEED)"));
        // Written again, then unmapped.
        TouchWrite(a, pages);
        var munmap = ThreadCpuTime.Time(() => Check(Munmap(a, len), "munmap"));

        // Read faults map the zero page.
        nint b = Map(len);
        var read = ThreadCpuTime.Time(() => TouchRead(b, pages));
        Check(Munmap(b, len), "munmap");
        return new Run(write.Wall, read.Wall, dontneed.Wall, munmap.Wall, pages, write.Cpu, read.Cpu, dontneed.Cpu, munmap.Cpu);
    }

    private static nint Map(nuint len)
    {
        nint a = Mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (a == -1)
            throw new InvalidOperationException($"mmap of {len} bytes failed: errno {Marshal.GetLastPInvokeError()}");
        // Best effort: a kernel without THP has nothing to turn off.
        _ = Madvise(a, len, MADV_NOHUGEPAGE);
        return a;
    }

    private static void TouchWrite(nint a, long pages)
    {
        for (long i = 0; i < pages; i++)
            Marshal.WriteByte(a, (int)(i * PageSize), 1);
    }

    private static int _sink;

    private static void TouchRead(nint a, long pages)
    {
        int sum = 0;
        for (long i = 0; i < pages; i++)
            sum += Marshal.ReadByte(a, (int)(i * PageSize));
        _sink += sum;
    }

    private static void Check(int ret, string call)
    {
        if (ret != 0)
            throw new InvalidOperationException($"{call} failed: errno {Marshal.GetLastPInvokeError()}");
    }
}
