using System.Globalization;

namespace KernelMm.Harness.Pictures;

/// <summary>Byte counts as the ptdump prints them: the largest unit that divides exactly (4K, 18M, 1G).</summary>
internal static class ByteSize
{
    private const string Units = "BKMGTPE";

    public static string Text(ulong bytes)
    {
        int unit = 0;
        while (bytes != 0 && (bytes & 1023) == 0 && unit < Units.Length - 1)
        {
            bytes >>= 10;
            unit++;
        }
        return bytes.ToString(CultureInfo.InvariantCulture) + Units[unit];
    }

    /// <summary>A hex address without leading zeros.</summary>
    public static string Hex(ulong a) => "0x" + a.ToString("x", CultureInfo.InvariantCulture);
}
