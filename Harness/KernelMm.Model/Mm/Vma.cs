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

    /// <summary>
    /// The /proc/PID/maps line (show_map_vma, 5.x): start-end, perms, offset 0, device 00:00
    /// and inode 0 for anonymous memory, then, for the stack, padding to column 73 and
    /// <c>[stack]</c>. An unnamed mapping's line ends in the space after the inode, as the kernel prints it.
    /// </summary>
    public string MapsLine()
    {
        string head = $"{Start:x8}-{End:x8} {Perms} 00000000 00:00 0 ";
        return (Flags & VmFlags.VM_STACK) != 0 ? head.PadRight(73) + "[stack]" : head;
    }

    /// <summary>The permission column of /proc/PID/maps.</summary>
    public string Perms =>
        $"{((Flags & VmFlags.VM_READ) != 0 ? 'r' : '-')}{((Flags & VmFlags.VM_WRITE) != 0 ? 'w' : '-')}{((Flags & VmFlags.VM_EXEC) != 0 ? 'x' : '-')}p";
}
