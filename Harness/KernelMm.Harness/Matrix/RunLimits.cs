using System.Globalization;

namespace KernelMm.Harness.Matrix;

/// <summary>
/// Limits for one combination's run, so that a runaway scenario is stopped and reported
/// instead of hanging the suite. <see cref="MaxOperations"/> bounds both the calls a script
/// makes through the globals and the model's own count (calls plus pages touched);
/// <see cref="WallClock"/> bounds the run's time.
/// </summary>
public sealed record RunLimits(long MaxOperations, TimeSpan WallClock)
{
    public static RunLimits Default { get; } = new(20_000_000, TimeSpan.FromSeconds(60));

    /// <summary>The defaults, overridden by KMM_MAX_OPS (a count) and KMM_TIMEOUT (seconds) when set.</summary>
    public static RunLimits FromEnvironment(Func<string, string?>? getenv = null)
    {
        getenv ??= Environment.GetEnvironmentVariable;
        var l = Default;
        if (getenv("KMM_MAX_OPS") is { Length: > 0 } ops)
            l = l with { MaxOperations = ParsePositive(ops, "KMM_MAX_OPS") };
        if (getenv("KMM_TIMEOUT") is { Length: > 0 } secs)
            l = l with { WallClock = TimeSpan.FromSeconds(ParsePositive(secs, "KMM_TIMEOUT")) };
        return l;
    }

    /// <summary>The process's memory limit (working set), in bytes: KMM_MAX_MEMORY in MiB, else <paramref name="defaultMiB"/>.</summary>
    public static long MaxMemoryFromEnvironment(long defaultMiB, Func<string, string?>? getenv = null)
    {
        getenv ??= Environment.GetEnvironmentVariable;
        long mib = getenv("KMM_MAX_MEMORY") is { Length: > 0 } s ? ParsePositive(s, "KMM_MAX_MEMORY") : defaultMiB;
        return mib << 20;
    }

    private static long ParsePositive(string s, string name) =>
        long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long v) && v > 0
            ? v
            : throw new ArgumentException($"{name}='{s}': expected a positive whole number");
}
