using KernelMm.Harness.Scripting;

namespace KernelMm.Harness.State;

/// <summary>What a checkpoint captures: its sections, and the address range its page-table dumps are limited to (null: all of them).</summary>
public sealed record CaptureOptions(Section Sections, AddressRange? Range = null)
{
    public static CaptureOptions Default { get; } = new(Section.All);

    public bool Has(Section s) => (Sections & s) == s;
}

/// <summary>[Start, End) of virtual addresses; End 0 stands for the top of the address space (2^64).</summary>
public readonly record struct AddressRange(ulong Start, ulong End)
{
    /// <summary>The range (start, length) as scripts give it; throws <see cref="ArgumentException"/> for a non-positive length or one past 2^64.</summary>
    public static AddressRange Of(ulong start, long length)
    {
        if (length <= 0)
            throw new ArgumentException($"page-table range: length must be positive ({length})", nameof(length));
        ulong end = unchecked(start + (ulong)length);
        if (end != 0 && end < start)
            throw new ArgumentException($"page-table range: 0x{start:x} + {length} runs past the end of the address space", nameof(length));
        return new AddressRange(start, end);
    }

    public override string ToString() => $"0x{Start:x16}-0x{End:x16}";
}
