namespace KernelMm.Model.Mm;

/// <summary>
/// The MAP_* flags of mmap beyond MAP_PRIVATE|MAP_ANONYMOUS (include/uapi/asm-generic/mman*.h,
/// x86 values). MAP_FIXED is what <c>at:</c> means alone.
/// </summary>
[Flags]
public enum MapFlags
{
    None = 0,

    /// <summary>MAP_LOCKED: the mapping is VM_LOCKED and populated (as mlock would do).</summary>
    Locked = 0x2000,

    /// <summary>MAP_NORESERVE: VM_NORESERVE, so no VM_ACCOUNT charge, unless vm.overcommit_memory is 2 (then ignored).</summary>
    NoReserve = 0x4000,

    /// <summary>MAP_POPULATE: prefault the range after mapping it (mm_populate): write faults if private writable, else read faults.</summary>
    Populate = 0x8000,

    /// <summary>MAP_FIXED_NOREPLACE: map at <c>at:</c> exactly, failing with EEXIST where something is mapped already.</summary>
    FixedNoReplace = 0x100000,
}
