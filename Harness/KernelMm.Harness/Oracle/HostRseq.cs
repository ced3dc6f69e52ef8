using System.Runtime.InteropServices;

namespace KernelMm.Harness.Oracle;

/// <summary>
/// The calling thread's rseq area, as glibc (2.35+) registers it for every thread, so that
/// an agent can unregister the copy a fork gave it. Left registered, the kernel writes the
/// area's cpu_id on the return to user space after a migration (rseq_handle_notify_resume,
/// kernel/rseq.c): after a fork that write lands in a copy-on-write page of the stack or TLS
/// and is a minor fault of whichever agent the scheduler moved, at random, in the figures.
/// </summary>
internal static unsafe class HostRseq
{
    /// <summary>RSEQ_FLAG_UNREGISTER (uapi/linux/rseq.h).</summary>
    public const long FlagUnregister = 1;

    /// <summary>RSEQ_SIG on x86 (glibc sysdeps/unix/sysv/linux/x86/bits/rseq.h): unregistering needs the signature registered.</summary>
    public const long Sig = 0x53053053;

    /// <summary>rseq(2) on x86-64 (arch/x86/entry/syscalls/syscall_64.tbl).</summary>
    public const long SYS_rseq = 334;

    private const long SYS_arch_prctl = 158, ARCH_GET_FS = 0x1003;

    // glibc's __rseq_offset and __rseq_size, looked up once per process (they never move).
    private static readonly Lazy<(nint Offset, nint Size)?> Symbols = new(() =>
        NativeLibrary.TryLoad("libc.so.6", out nint libc)
        && NativeLibrary.TryGetExport(libc, "__rseq_offset", out nint offset)
        && NativeLibrary.TryGetExport(libc, "__rseq_size", out nint size)
            ? (offset, size)
            : null);

    /// <summary>
    /// The address of this thread's rseq area and the lengths glibc may have registered it
    /// with (32, its struct rseq_area, or __rseq_size), or null when glibc registers none
    /// (a libc without rseq support, or the glibc.pthread.rseq=0 tunable).
    /// </summary>
    public static (long Address, long[] Lengths)? OfThisThread()
    {
        if (Symbols.Value is not var (offsetSym, sizeSym))
            return null;
        uint size = *(uint*)sizeSym;
        if (size == 0)
            return null;
        long fs;
        if (Syscall(SYS_arch_prctl, ARCH_GET_FS, (long)&fs) != 0)
            return null;
        long address = fs + *(long*)offsetSym;
        return (address, size == 32 ? [32] : [32, size]);
    }

#pragma warning disable SYSLIB1054 // blittable: no generated marshalling needed.
    [DllImport("libc", EntryPoint = "syscall")]
    private static extern long Syscall(long nr, long a1, long a2);
#pragma warning restore SYSLIB1054
}
