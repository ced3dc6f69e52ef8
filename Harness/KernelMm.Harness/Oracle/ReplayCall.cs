using KernelMm.Model;

namespace KernelMm.Harness.Oracle;

/// <summary>What a recorded scenario call was, for the replay.</summary>
public enum ReplayKind
{
    Spawn,
    Mmap,
    Munmap,
    Mprotect,
    Madvise,
    Mremap,
    Mlock,
    Munlock,
    Touch,
    Fork,
    Exit,
    /// <summary>A call the host cannot make for the scenario (kernel-internal, or not a process call): listed, never faked.</summary>
    NotReplayed,
}

/// <summary>
/// One call of a scenario as the model ran it: the process (model pid), its arguments in
/// model addresses, and what the model answered (a result such as mmap's address, or the
/// errno it failed with), so the replay can make the same call and check the same answer.
/// </summary>
public sealed record ReplayCall(ReplayKind Kind, int Pid, string Text)
{
    public ulong Addr { get; init; }
    public long Length { get; init; }
    /// <summary>PROT_* for mmap/mprotect; MADV_* for madvise; MREMAP_* for mremap.</summary>
    public long Arg { get; init; }
    /// <summary>MAP_* flags beyond MAP_PRIVATE|MAP_ANONYMOUS (mmap); new length (mremap); stride (touch).</summary>
    public long Arg2 { get; init; }
    /// <summary>mremap's new address (MREMAP_FIXED); whether a touch writes (1).</summary>
    public ulong Arg3 { get; init; }
    /// <summary>The model's result: mmap/mremap's address, the forked or spawned child's pid.</summary>
    public long Result { get; init; }
    /// <summary>The errno the model failed the call with (null: it succeeded).</summary>
    public Errno? Failed { get; init; }
}
