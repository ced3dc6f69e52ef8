using System.Diagnostics;
using KernelMm.Model;
using KernelMm.Model.Boot;
using KernelMm.Model.Mm;

namespace KernelMm.Harness.Bench;

/// <summary>
/// The model's side of the figures: the anonymous-memory workload on 1 GiB (write faults,
/// zero-page read faults, MADV_DONTNEED, munmap), set_memory splitting and restoring,
/// boot times, and host memory per emulated GiB. Each run uses a freshly booted base
/// kernel (no patches), through the model's own API (no scripting facade).
/// </summary>
public static class ModelBench
{
    public const long WorkloadBytes = 1L << 30;
    private const long PageSize = 4096;

    /// <summary>The four timings of one run, in wall seconds, over <see cref="WorkloadBytes"/>, and the same in CPU seconds of this thread.</summary>
    public readonly record struct AnonRun(double WriteFaults, double ReadFaults, double DontNeed, double Munmap, long Pages,
        double WriteFaultsCpu, double ReadFaultsCpu, double DontNeedCpu, double MunmapCpu);

    public static AnonRun MeasureAnon()
    {
        var k = new Kernel(new BootOptions(MemoryBytes: 4L << 30));
        var p = k.Spawn("bench");
        long pages = WorkloadBytes / PageSize;

        ulong a = p.Mmap(WorkloadBytes);
        var write = ThreadCpuTime.Time(() => p.Touch(a, WorkloadBytes, Access.Write));
        var dontneed = ThreadCpuTime.Time(() => p.Madvise(a, WorkloadBytes, Advice.DontNeed));
        p.Touch(a, WorkloadBytes, Access.Write);
        var munmap = ThreadCpuTime.Time(() => p.Munmap(a, WorkloadBytes));

        ulong b = p.Mmap(WorkloadBytes);
        var read = ThreadCpuTime.Time(() => p.Touch(b, WorkloadBytes, Access.Read));
        return new AnonRun(write.Wall, read.Wall, dontneed.Wall, munmap.Wall, pages, write.Cpu, read.Cpu, dontneed.Cpu, munmap.Cpu);
    }

    /// <summary>
    /// set_memory_ro then set_memory_rw on one page in each of <paramref name="pages"/> 2 MiB
    /// ranges of the direct map above the first GiB: the first call splits the large page
    /// (1G to 2M once per GiB, 2M to 4K each time) and the second restores the attributes.
    /// Returns calls per wall second and per CPU second of this thread.
    /// </summary>
    public static (double PerWall, double PerCpu) MeasureSetMemory(int pages = 1024)
    {
        var k = new Kernel(new BootOptions(MemoryBytes: 4L << 30));
        long first = (1L << 30) / PageSize;
        long stride = (2L << 20) / PageSize;
        var addrs = Enumerable.Range(0, pages).Select(i => k.DirectMapAddress(first + i * stride)).ToArray();
        var (wall, cpu) = ThreadCpuTime.Time(() =>
        {
            foreach (var va in addrs)
            {
                k.SetMemory.ReadOnly(va, 1);
                k.SetMemory.ReadWrite(va, 1);
            }
        });
        return (2.0 * pages / wall, 2.0 * pages / cpu);
    }

    /// <summary>Milliseconds to boot a machine of <paramref name="bytes"/> (default options otherwise).</summary>
    public static double MeasureBoot(long bytes)
    {
        long t0 = Stopwatch.GetTimestamp();
        var k = new Kernel(new BootOptions(MemoryBytes: bytes));
        double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        GC.KeepAlive(k);
        return ms;
    }

    /// <summary>Managed heap bytes a booted machine of <paramref name="bytes"/> holds.</summary>
    public static long MeasureBootHeap(long bytes)
    {
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var k = new Kernel(new BootOptions(MemoryBytes: bytes));
        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(k);
        return after - before;
    }

    /// <summary>
    /// Host bytes the model adds for each emulated GiB that is touched: a 4 GiB machine with
    /// a process whose 1 GiB mapping is write-faulted in full (struct pages, page tables,
    /// bookkeeping), measured as the managed heap before and after the touch.
    /// </summary>
    public static double MeasureBytesPerTouchedGib()
    {
        var k = new Kernel(new BootOptions(MemoryBytes: 4L << 30));
        var p = k.Spawn("bench");
        ulong a = p.Mmap(WorkloadBytes);
        long before = GC.GetTotalMemory(forceFullCollection: true);
        p.Touch(a, WorkloadBytes, Access.Write);
        long after = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(k);
        return (after - before) / (WorkloadBytes / (double)(1L << 30));
    }
}
