using KernelMm.Model.Boot;

namespace KernelMm.Model.Tests;

/// <summary>Booted kernels for tests.</summary>
internal static class TestKernel
{
    public static Kernel Boot(long memory = 4L << 30, bool gbpages = true, int cpus = 2, bool pti = true) =>
        new(new BootOptions(MemoryBytes: memory, Cpus: cpus, GbPages: gbpages, Pti: pti));

    public const ulong GiB = 1UL << 30;
    public const ulong MiB = 1UL << 20;
}
