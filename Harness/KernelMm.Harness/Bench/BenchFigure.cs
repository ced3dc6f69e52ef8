using System.Globalization;

namespace KernelMm.Harness.Bench;

/// <summary>
/// One figure of <c>kmm bench</c>: a stable name (compared across runs and machines), the
/// median of its runs, and its unit. <see cref="Line"/> is the machine-readable form.
/// </summary>
/// <param name="Name">The name, e.g. <c>model.write_faults_per_s</c>.</param>
/// <param name="Value">The median over <paramref name="Runs"/> runs.</param>
/// <param name="Unit">What the value counts (for the table).</param>
/// <param name="Runs">How many runs the median is of.</param>
public sealed record BenchFigure(string Name, double Value, string Unit, int Runs)
{
    /// <summary><c>name=value</c>, invariant culture, no exponent, at most three decimals.</summary>
    public string Line => $"{Name}={Format(Value)}";

    public static string Format(double v) =>
        double.IsFinite(v) ? Math.Round(v, v >= 100 ? 0 : 3).ToString("0.###", CultureInfo.InvariantCulture) : "nan";

    /// <summary>The median of a non-empty list (the mean of the middle two for an even count).</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0)
            throw new ArgumentException("no values", nameof(values));
        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
