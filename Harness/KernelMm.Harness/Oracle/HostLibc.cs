using System.Runtime.InteropServices;

namespace KernelMm.Harness.Oracle;

/// <summary>
/// The few libc calls the oracle's own process makes (the agents make raw system calls of
/// their own, see <see cref="AgentCode"/>). Blittable signatures only: no marshalling code.
/// </summary>
internal static class HostLibc
{
    public const int PROT_NONE = 0, PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;
    public const int MAP_PRIVATE = 0x02, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_GROWSDOWN = 0x100,
        MAP_NORESERVE = 0x4000, MAP_POPULATE = 0x8000, MAP_FIXED_NOREPLACE = 0x100000;
    public const int O_CLOEXEC = 0x80000;
    public const short POLLIN = 1;
    public const int SIGKILL = 9, WNOHANG = 1;

    // x86-64 system call numbers (arch/x86/entry/syscalls/syscall_64.tbl).
    public const long SYS_mmap = 9, SYS_mprotect = 10, SYS_munmap = 11, SYS_mremap = 25, SYS_madvise = 28,
        SYS_mlock = 149, SYS_munlock = 150, SYS_prctl = 157, SYS_sched_setaffinity = 203;
    public const long PR_SET_THP_DISABLE = 41;

#pragma warning disable SYSLIB1054 // blittable signatures: DllImport needs no generated marshalling.
    [DllImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static extern nint Mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [DllImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static extern int Munmap(nint addr, nuint length);

    [DllImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    public static extern int Mprotect(nint addr, nuint length, int prot);

    [DllImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    public static extern unsafe int Pipe2(int* fds, int flags);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    public static extern int Close(int fd);

    [DllImport("libc", EntryPoint = "read", SetLastError = true)]
    public static extern unsafe nint Read(int fd, void* buf, nuint count);

    [DllImport("libc", EntryPoint = "write", SetLastError = true)]
    public static extern unsafe nint Write(int fd, void* buf, nuint count);

    [DllImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static extern unsafe int Poll(PollFd* fds, nuint nfds, int timeoutMs);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static extern int Kill(int pid, int sig);

    [DllImport("libc", EntryPoint = "sched_getaffinity", SetLastError = true)]
    public static extern unsafe int SchedGetaffinity(int pid, nuint size, byte* mask);

    [DllImport("libc", EntryPoint = "waitpid", SetLastError = true)]
    public static extern unsafe int Waitpid(int pid, int* status, int options);
#pragma warning restore SYSLIB1054

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    public static int Errno => Marshal.GetLastPInvokeError();
}
