using System.Globalization;

namespace KernelMm.Harness.Scripting;

/// <summary>
/// A virtual address as the script API returns it (<c>p.Mmap</c>, <c>p.Mremap</c>,
/// <c>Kernel.Vmalloc</c>, <c>Kernel.DirectMapAddress</c>, <c>p.Maps</c>). It composes with
/// sizes without casts, which <c>ulong + long</c> does not in C# (CS0034):
/// <c>buf + 2.MiB()</c>, <c>buf + i * 4096</c>, <c>end - buf</c> (a size, long), <c>buf &amp; ~(2.MiB() - 1)</c>.
/// It converts implicitly to and from <c>ulong</c>, so it goes wherever an address goes.
/// Arithmetic wraps as the kernel's unsigned long does. Printed as <c>0x</c> and lowercase hex;
/// a format string (<c>$"{a:x}"</c>) formats the number.
/// </summary>
public readonly struct Addr : IEquatable<Addr>, IComparable<Addr>, IFormattable
{
    public Addr(ulong value) => Value = value;

    /// <summary>The address as a number.</summary>
    public ulong Value { get; }

    public static implicit operator ulong(Addr a) => a.Value;
    public static implicit operator Addr(ulong v) => new(v);

    public static Addr operator +(Addr a, long size) => new(unchecked(a.Value + (ulong)size));
    public static Addr operator +(long size, Addr a) => a + size;
    public static Addr operator +(Addr a, ulong size) => new(unchecked(a.Value + size));
    public static Addr operator -(Addr a, long size) => new(unchecked(a.Value - (ulong)size));
    public static Addr operator -(Addr a, ulong size) => new(unchecked(a.Value - size));

    /// <summary>The distance between two addresses, in bytes (negative when <paramref name="b"/> is higher).</summary>
    public static long operator -(Addr a, Addr b) => unchecked((long)(a.Value - b.Value));

    /// <summary>The offset within an alignment: <c>buf % 2.MiB()</c>.</summary>
    public static long operator %(Addr a, long alignment) => (long)(a.Value % (ulong)alignment);

    public static Addr operator &(Addr a, long mask) => new(a.Value & unchecked((ulong)mask));
    public static Addr operator &(Addr a, ulong mask) => new(a.Value & mask);
    public static Addr operator |(Addr a, long bits) => new(a.Value | unchecked((ulong)bits));

    public static bool operator ==(Addr a, Addr b) => a.Value == b.Value;
    public static bool operator !=(Addr a, Addr b) => a.Value != b.Value;
    public static bool operator <(Addr a, Addr b) => a.Value < b.Value;
    public static bool operator >(Addr a, Addr b) => a.Value > b.Value;
    public static bool operator <=(Addr a, Addr b) => a.Value <= b.Value;
    public static bool operator >=(Addr a, Addr b) => a.Value >= b.Value;

    /// <summary>Rounded down to a multiple of <paramref name="alignment"/> (a power of two): ALIGN_DOWN.</summary>
    public Addr AlignDown(long alignment) => new(Value & ~((ulong)alignment - 1));

    /// <summary>Rounded up to a multiple of <paramref name="alignment"/> (a power of two): ALIGN.</summary>
    public Addr AlignUp(long alignment) => new((Value + (ulong)alignment - 1) & ~((ulong)alignment - 1));

    public bool Equals(Addr other) => Value == other.Value;
    public override bool Equals(object? obj) => obj is Addr a && Equals(a);
    public override int GetHashCode() => Value.GetHashCode();
    public int CompareTo(Addr other) => Value.CompareTo(other.Value);

    public override string ToString() => "0x" + Value.ToString("x", CultureInfo.InvariantCulture);

    public string ToString(string? format, IFormatProvider? formatProvider) =>
        string.IsNullOrEmpty(format) ? ToString() : Value.ToString(format, formatProvider);
}
