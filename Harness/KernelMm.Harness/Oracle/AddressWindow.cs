namespace KernelMm.Harness.Oracle;

/// <summary>
/// Where the model's user addresses land on the host. The model's processes live in the
/// top 512 GiB of the user half (one pgd entry: the stack and mmap_base are there); the
/// host's agents are forks of a .NET process whose own mappings fill that slot. So the
/// replay moves the model's addresses down by a whole number of pgd entries into a slot
/// that this process has reserved and that the agents empty before they start: every
/// page-table level sees the same offsets, so table sharing, floor and ceiling cases and
/// VMA adjacency are what they are in the model.
/// </summary>
public sealed class AddressWindow
{
    /// <summary>PGDIR_SIZE with 4-level paging: one pgd entry maps 512 GiB.</summary>
    public const int PgdirShift = 39;
    public const ulong PgdirSize = 1UL << PgdirShift;

    /// <summary>The model's slot: the last user pgd entry (TASK_SIZE_MAX is in it).</summary>
    public const int ModelSlot = 255;

    public AddressWindow(int hostSlot)
    {
        if (hostSlot is <= 0 or >= ModelSlot)
            throw new ArgumentOutOfRangeException(nameof(hostSlot), hostSlot, "a user pgd slot below the model's");
        HostSlot = hostSlot;
    }

    public int HostSlot { get; }
    public ulong HostBase => (ulong)HostSlot << PgdirShift;
    public ulong ModelBase => (ulong)ModelSlot << PgdirShift;
    public ulong Delta => ModelBase - HostBase;

    public bool InModelWindow(ulong modelAddr) => modelAddr >> PgdirShift == ModelSlot;

    public ulong ToHost(ulong modelAddr) =>
        InModelWindow(modelAddr) ? modelAddr - Delta
            : throw new OracleHostException($"0x{modelAddr:x} is outside the replayed window (the model's top 512 GiB): not replayed");

    public ulong ToModel(ulong hostAddr) => hostAddr + Delta;

    /// <summary>The first free pgd slot from the top that no mapping in <paramref name="maps"/> touches.</summary>
    public static AddressWindow ChooseFree(IEnumerable<(ulong Start, ulong End)> maps)
    {
        var used = new HashSet<int>();
        foreach (var (start, end) in maps)
            for (ulong s = start >> PgdirShift; s <= (end - 1) >> PgdirShift && s < 256; s++)
                used.Add((int)s);
        for (int slot = ModelSlot - 1; slot > 0; slot--)
            if (!used.Contains(slot))
                return new AddressWindow(slot);
        throw new OracleHostException("no free 512 GiB slot in this process's address space for the replay");
    }
}
