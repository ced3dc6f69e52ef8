using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Mm;

/// <summary>mlock and munlock (mm/mlock.c, 5.x): VM_LOCKED on the VMAs, locked_vm (VmLck), and population.</summary>
public sealed partial class MmStruct
{
    /// <summary>locked_vm in pages: the pages of VM_LOCKED VMAs (VmLck).</summary>
    public long LockedVm { get; private set; }

    /// <summary>The locked_vm decrement of munmap and exit for a VM_LOCKED VMA.</summary>
    private void UnlockVma(Vma v)
    {
        if ((v.Flags & VmFlags.VM_LOCKED) != 0)
            LockedVm -= (long)(v.Length >> PAGE_SHIFT);
    }

    /// <summary>
    /// do_mlock / sys_munlock: the start is rounded down and the length up to pages (no
    /// EINVAL for an unaligned start); apply_vma_lock_flags sets or clears VM_LOCKED on each
    /// VMA of the range (mlock_fixup: split, merge, locked_vm), then mlock populates the range
    /// (__mm_populate). A hole is ENOMEM, after the VMAs before it were changed. The tasks
    /// run as root (CAP_IPC_LOCK), so RLIMIT_MEMLOCK does not apply.
    /// </summary>
    internal void Mlock(ulong start, long length, bool lockIt)
    {
        string call = lockIt ? "mlock" : "munlock";
        if (length < 0)
            throw new KernelErrnoException(call, Errno.EINVAL, $"length {length}");
        ulong len = PageAlign((ulong)length + (start & ~PAGE_MASK));
        start &= PAGE_MASK;
        ulong end = start + len;
        if (end < start)
            throw new KernelErrnoException(call, Errno.EINVAL, $"0x{start:x}+{length:x} wraps");
        if (end == start)
            return;
        var first = FindVma(start);
        if (first is null || first.Start > start)
            throw new KernelErrnoException(call, Errno.ENOMEM, $"0x{start:x} is not mapped");
        SplitAt(start);
        SplitAt(end);
        Errno? hole = null;
        ulong next = start;
        foreach (var v in _vmas.Where(v => v.Start >= start && v.End <= end).ToList())
        {
            if (v.Start != next)
            {
                hole = Errno.ENOMEM;
                break;
            }
            next = v.End;
            var newFlags = lockIt ? v.Flags | VmFlags.VM_LOCKED : v.Flags & ~VmFlags.VM_LOCKED;
            if (newFlags == v.Flags)
                continue; // mlock_fixup: nothing to do and nothing to count
            long pages = (long)(v.Length >> PAGE_SHIFT);
            LockedVm += lockIt ? pages : -pages;
            v.Flags = newFlags;
        }
        if (hole is null && next < end)
            hole = Errno.ENOMEM;
        foreach (var v in _vmas.Where(v => v.Start >= start && v.End <= end).ToList())
            if (_vmas.Contains(v))
                TryMerge(v);
        if (hole is { } e)
            throw new KernelErrnoException(call, e, $"part of 0x{start:x}+{len:x} is not mapped");
        if (lockIt)
            MmPopulate(start, len);
    }
}
