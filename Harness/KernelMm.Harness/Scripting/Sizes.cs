namespace KernelMm.Harness.Scripting;

/// <summary>Sizes for scripts: <c>4.KiB()</c>, <c>2.MiB()</c>, <c>1.GiB()</c>, <c>1.TiB()</c>, in bytes as long.</summary>
public static class Sizes
{
    public static long KiB(this int n) => checked(n * (1L << 10));
    public static long MiB(this int n) => checked(n * (1L << 20));
    public static long GiB(this int n) => checked(n * (1L << 30));
    public static long TiB(this int n) => checked(n * (1L << 40));

    public static long KiB(this long n) => checked(n * (1L << 10));
    public static long MiB(this long n) => checked(n * (1L << 20));
    public static long GiB(this long n) => checked(n * (1L << 30));
    public static long TiB(this long n) => checked(n * (1L << 40));
}
