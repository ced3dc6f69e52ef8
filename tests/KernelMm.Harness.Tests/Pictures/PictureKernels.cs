using KernelMm.Model;
using KernelMm.Model.Boot;
using KernelMm.Model.Mm;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Harness.Tests.Pictures;

/// <summary>The kernels the picture tests draw: booted, then changed by the CPA calls a reviewer of the series looks for.</summary>
internal static class PictureKernels
{
    public const ulong MiB = 1UL << 20, GiB = 1UL << 30;

    public static Kernel Boot(long memory = 4L << 30, bool gbpages = true, bool protectPageTables = false) =>
        new(new BootOptions(MemoryBytes: memory, GbPages: gbpages, Pti: !protectPageTables, ProtectPageTables: protectPageTables));

    /// <summary>
    /// A 4 GiB machine with one of each mark in the second gigabyte, each in its own 2 MiB range:
    /// ro at 1G, x at 1G+2M, np at 1G+4M (one page each), a PKS key on 1G+6M, set_memory_4k with
    /// _PAGE_KERNEL_4K (as restore-large-pages sets it) on 1G+8M.
    /// </summary>
    public static Kernel EveryMark()
    {
        var k = Boot();
        ulong g1 = KernelLayout.PAGE_OFFSET + GiB;
        k.SetMemory.ReadOnly(g1, 1);
        k.SetMemory.Exec(g1 + 2 * MiB, 1);
        k.SetMemory.NotPresent(g1 + 4 * MiB, 1);
        k.PageTablePages.SetMemoryPks((long)((GiB + 6 * MiB) >> 12), 1, PageTablePages.PKS_KEY_PG_TABLES);
        k.SetMemory.FourKMaskSet = _PAGE_KERNEL_4K;
        k.SetMemory.FourK(g1 + 8 * MiB, 1);
        return k;
    }

    /// <summary>A process with one table of each kind: 2 MiB read (zero page), 2 MiB written, 2 MiB written then dropped (an empty table).</summary>
    public static (Kernel Kernel, Process Process) ThreeTables()
    {
        var k = Boot();
        var p = k.Spawn("worker");
        ulong a = p.Mmap(6L << 20, at: 0x40000000);
        p.Touch(a, 2L << 20, Access.Read);
        p.Touch(a + (2UL << 20), 2L << 20, Access.Write);
        p.Touch(a + (4UL << 20), 2L << 20, Access.Write);
        p.Madvise(a + (4UL << 20), 2L << 20, Advice.DontNeed);
        return (k, p);
    }
}
