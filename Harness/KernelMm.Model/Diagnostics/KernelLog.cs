namespace KernelMm.Model.Diagnostics;

/// <summary>
/// The model's dmesg for things the kernel would BUG/WARN on. They are recorded, not
/// thrown, so a run goes on as the kernel does and the harness reports them.
/// </summary>
public class KernelLog
{
    private readonly List<KernelWarning> _warnings = [];
    private readonly HashSet<string> _once = [];

    public IReadOnlyList<KernelWarning> Warnings => _warnings;

    /// <summary>CONFIG_HZ of x86_64_defconfig.</summary>
    public const int HZ = 1000;

    /// <summary>
    /// jiffies since boot, for the kernel's rate limits (bad_page's 60 a minute). Nothing the
    /// model does takes time, so a scenario runs within its first minute; tests move it.
    /// </summary>
    public long Jiffies { get; set; }

    /// <summary>TAINT_BAD_PAGE and friends, by letter as /proc/sys/kernel/tainted's decoding prints them.</summary>
    public SortedSet<char> Taints { get; } = [];

    public virtual void Warn(string kind, string message) => _warnings.Add(new KernelWarning(kind, message));

    /// <summary>WARN_ON_ONCE: only the first occurrence per key.</summary>
    public void WarnOnce(string kind, string message)
    {
        if (_once.Add(kind))
            Warn(kind, message);
    }

    public void Taint(char flag) => Taints.Add(flag);
}
