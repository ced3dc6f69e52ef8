using KernelMm.Model.Stats;

namespace KernelMm.Model.Mm;

/// <summary>The vm.overcommit_memory policies (include/uapi/linux/mman.h).</summary>
public enum OvercommitPolicy
{
    OVERCOMMIT_GUESS = 0,
    OVERCOMMIT_ALWAYS = 1,
    OVERCOMMIT_NEVER = 2,
}

/// <summary>
/// Overcommit accounting as mm/util.c has it in 5.x: the sysctls, vm_committed_as (the
/// pages of every VM_ACCOUNT mapping, meminfo's Committed_AS), vm_commit_limit (CommitLimit)
/// and __vm_enough_memory. The model has no swap and no hugetlb pages, so total_swap_pages
/// and hugetlb_total_pages are 0.
/// </summary>
public sealed class Overcommit
{
    private readonly Kernel _k;

    internal Overcommit(Kernel k)
    {
        _k = k;
        var sysctl = k.Sysctl;
        // proc_dointvec_minmax with zero and two (kernel/sysctl.c): anything else is EINVAL.
        sysctl.Register("vm.overcommit_memory", v =>
        {
            if (v is < 0 or > 2)
                throw new KernelErrnoException("write /proc/sys/vm/overcommit_memory", Errno.EINVAL, $"{v} is not 0, 1 or 2");
            Policy = (OvercommitPolicy)v;
        }, () => (long)Policy);
        // overcommit_ratio_handler / overcommit_kbytes_handler: setting one clears the other.
        sysctl.Register("vm.overcommit_ratio", v =>
        {
            Ratio = checked((int)v);
            Kbytes = 0;
        }, () => Ratio);
        sysctl.Register("vm.overcommit_kbytes", v =>
        {
            if (v < 0)
                throw new KernelErrnoException("write /proc/sys/vm/overcommit_kbytes", Errno.EINVAL, $"{v} is negative");
            Kbytes = v;
            Ratio = 0;
        }, () => Kbytes);
        sysctl.Register("vm.admin_reserve_kbytes", v => AdminReserveKbytes = NonNegative("admin_reserve_kbytes", v), () => AdminReserveKbytes);
        sysctl.Register("vm.user_reserve_kbytes", v => UserReserveKbytes = NonNegative("user_reserve_kbytes", v), () => UserReserveKbytes);
    }

    private static long NonNegative(string file, long v) =>
        v >= 0 ? v : throw new KernelErrnoException($"write /proc/sys/vm/{file}", Errno.EINVAL, $"{v} is negative");

    /// <summary>sysctl_overcommit_memory; OVERCOMMIT_GUESS by default.</summary>
    public OvercommitPolicy Policy { get; private set; } = OvercommitPolicy.OVERCOMMIT_GUESS;

    /// <summary>sysctl_overcommit_ratio: 50 (%) by default.</summary>
    public int Ratio { get; private set; } = 50;

    /// <summary>sysctl_overcommit_kbytes: 0 (use the ratio) by default.</summary>
    public long Kbytes { get; private set; }

    /// <summary>sysctl_admin_reserve_kbytes: 8 MiB, lowered at boot to 1/32 of free memory (init_admin_reserve).</summary>
    public long AdminReserveKbytes { get; private set; } = 1L << 13;

    /// <summary>sysctl_user_reserve_kbytes: 128 MiB, lowered at boot to 1/32 of free memory (init_user_reserve).</summary>
    public long UserReserveKbytes { get; private set; } = 1L << 17;

    /// <summary>vm_committed_as in pages (read as percpu_counter_read_positive: never below 0).</summary>
    public long CommittedAs => Math.Max(0, _committed);

    private long _committed;

    /// <summary>init_user_reserve and init_admin_reserve (subsys_initcall, mm/mmap.c): min(free / 32, default).</summary>
    internal void InitReserves()
    {
        long freeKbytes = _k.VmStat[VmStatItem.NR_FREE_PAGES] << 2;
        UserReserveKbytes = Math.Min(freeKbytes / 32, 1L << 17);
        AdminReserveKbytes = Math.Min(freeKbytes / 32, 1L << 13);
    }

    /// <summary>vm_commit_limit: overcommit_kbytes, or totalram * overcommit_ratio / 100, plus swap (none).</summary>
    public long VmCommitLimit() =>
        Kbytes != 0 ? Kbytes >> 2 : _k.TotalRamPages * Ratio / 100;

    public void VmAcctMemory(long pages) => _committed += pages;

    public void VmUnacctMemory(long pages) => _committed -= pages;

    /// <summary>
    /// __vm_enough_memory (mm/util.c, 5.x): charges <paramref name="pages"/> to
    /// vm_committed_as and keeps the charge when the policy allows it. ALWAYS allows
    /// everything; GUESS refuses only a request larger than RAM plus swap; NEVER allows the
    /// commit limit, less the admin reserve for a task without CAP_SYS_ADMIN and less
    /// min(total_vm / 32, user_reserve) of the asking mm.
    /// </summary>
    public bool VmEnoughMemory(MmStruct? mm, long pages, bool capSysAdmin)
    {
        VmAcctMemory(pages);
        if (Policy == OvercommitPolicy.OVERCOMMIT_ALWAYS)
            return true;
        if (Policy == OvercommitPolicy.OVERCOMMIT_GUESS)
        {
            if (pages <= _k.TotalRamPages)
                return true;
        }
        else
        {
            long allowed = VmCommitLimit();
            if (!capSysAdmin)
                allowed -= AdminReserveKbytes >> 2;
            if (mm is not null)
                allowed -= Math.Min(mm.TotalVm / 32, UserReserveKbytes >> 2);
            if (CommittedAs < allowed)
                return true;
        }
        VmUnacctMemory(pages);
        return false;
    }
}
