namespace KernelMm.Model;

/// <summary>The errno values the model returns (include/uapi/asm-generic/errno-base.h).</summary>
public enum Errno
{
    EPERM = 1,
    ENOENT = 2,
    ESRCH = 3,
    EIO = 5,
    EFAULT = 14,
    ENOMEM = 12,
    EACCES = 13,
    EBUSY = 16,
    EEXIST = 17,
    ENODEV = 19,
    EINVAL = 22,
    ENOSPC = 28,
}

/// <summary>An invalid call into the model, failed with the errno the kernel gives, naming the call.</summary>
public sealed class KernelErrnoException(string call, Errno errno, string? detail = null)
    : Exception($"{call}: -{errno}" + (detail is null ? "" : $" ({detail})"))
{
    public string Call { get; } = call;

    public Errno Errno { get; } = errno;
}
