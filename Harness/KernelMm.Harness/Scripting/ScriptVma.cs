using KernelMm.Model.Mm;

namespace KernelMm.Harness.Scripting;

/// <summary>One VMA as <c>p.Maps</c> lists it: a line of /proc/PID/maps, taken when <c>Maps</c> was read.</summary>
public sealed class ScriptVma
{
    internal ScriptVma(Vma vma)
    {
        Start = vma.Start;
        End = vma.End;
        Perms = vma.Perms;
        Flags = vma.Flags;
        Line = vma.MapsLine();
    }

    public Addr Start { get; }
    public Addr End { get; }

    /// <summary>End - Start, in bytes.</summary>
    public long Length => End - Start;

    /// <summary>The permissions column: <c>rw-p</c>.</summary>
    public string Perms { get; }

    /// <summary>vm_flags (VM_READ ... VM_LOCKED, VM_ACCOUNT, VM_NORESERVE).</summary>
    public VmFlags Flags { get; }

    /// <summary>VM_LOCKED: mlock or MAP_LOCKED.</summary>
    public bool Locked => (Flags & VmFlags.VM_LOCKED) != 0;

    /// <summary>The line exactly as the kernel prints it (an unnamed mapping's ends in a space).</summary>
    public string Line { get; }

    /// <summary>The line without the kernel's trailing space, so that a recorded line keeps the snapshot free of trailing spaces.</summary>
    public override string ToString() => Line.TrimEnd();
}
