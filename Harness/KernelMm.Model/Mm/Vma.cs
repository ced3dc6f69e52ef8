namespace KernelMm.Model.Mm;

/// <summary>A vm_area_struct: [Start, End) of anonymous private memory with its flags.</summary>
public sealed class Vma(ulong start, ulong end, VmFlags flags)
{
    public ulong Start { get; internal set; } = start;
    public ulong End { get; internal set; } = end;
    public VmFlags Flags { get; internal set; } = flags;

    /// <summary>Whether an anon_vma was attached (the first fault); two VMAs with different ones cannot merge.</summary>
    public int AnonVma { get; internal set; }

    public ulong PageProt => VmPageProt.vm_get_page_prot(Flags);

    public ulong Length => End - Start;

    public bool Contains(ulong addr) => addr >= Start && addr < End;

    public override string ToString() => $"{Start:x12}-{End:x12} {Perms}";

    /// <summary>The permission column of /proc/PID/maps.</summary>
    public string Perms =>
        $"{((Flags & VmFlags.VM_READ) != 0 ? 'r' : '-')}{((Flags & VmFlags.VM_WRITE) != 0 ? 'w' : '-')}{((Flags & VmFlags.VM_EXEC) != 0 ? 'x' : '-')}p";
}
