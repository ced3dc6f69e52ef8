using System.Globalization;

namespace KernelMm.Harness.Bench;

/// <summary>
/// A target of issues 12 and 15 (the model at least as fast as before the sparse tables: 477 k set_memory calls/s, 22 M MADV_DONTNEED pages/s), checked against the figures of one run (the benchmark reports
/// targets; no test ever times anything). A target whose figures are missing (a group
/// that was not run, or <c>--host</c> not given) is reported as not measured.
/// </summary>
public sealed record BenchTarget(string Name, string Description, Func<IReadOnlyDictionary<string, double>, (bool Met, string Measured)?> Check)
{
    public static IReadOnlyList<BenchTarget> All { get; } =
    [
        AtLeastTimesHost("model.write_faults_per_s", "host.write_faults_per_s", 10),
        AtLeastTimesHost("model.read_faults_per_s", "host.read_faults_per_s", 10),
        // The same by CPU time: on a loaded machine the wall figures say more about the load.
        AtLeastTimesHost("model.write_faults_per_cpu_s", "host.write_faults_per_cpu_s", 10),
        AtLeastTimesHost("model.read_faults_per_cpu_s", "host.read_faults_per_cpu_s", 10),
        AtLeast("model.dontneed_pages_per_s", 22e6, "pages/s"),
        AtLeast("model.dontneed_pages_per_cpu_s", 22e6, "pages/s"),
        AtLeast("model.set_memory_calls_per_s", 477e3, "calls/s"),
        AtLeast("model.set_memory_calls_per_cpu_s", 477e3, "calls/s"),
        AtMost("boot_4g_ms", 2, "ms"),
        AtMost("boot_1t_ms", 200, "ms"),
        AtMost("boot_1t_host_mib", 512, "MiB"),
        AtMost("suite_cold_s", 10, "s"),
        AtMost("suite_warm_s", 3, "s"),
        AtMost("scale_case_s", 60, "s"),
        AtMost("scale_case_cpu_s", 60, "s"),
        AtMost("scale_case_host_gib", 12, "GiB"),
    ];

    private static BenchTarget AtMost(string name, double limit, string unit) =>
        new(name, $"{name} <= {limit.ToString(CultureInfo.InvariantCulture)} {unit}", f =>
            f.TryGetValue(name, out double v) ? (v <= limit, BenchFigure.Format(v)) : null);

    private static BenchTarget AtLeast(string name, double limit, string unit) =>
        new(name, $"{name} >= {BenchFigure.Format(limit)} {unit}", f =>
            f.TryGetValue(name, out double v) ? (v >= limit, BenchFigure.Format(v)) : null);

    private static BenchTarget AtLeastTimesHost(string model, string host, double times) =>
        new(model, $"{model} >= {times.ToString(CultureInfo.InvariantCulture)} x {host}", f =>
            f.TryGetValue(model, out double m) && f.TryGetValue(host, out double h) && h > 0
                ? (m >= times * h, $"{BenchFigure.Format(m / h)} x")
                : null);

    /// <summary><c># target NAME: met|missed|not measured (DESCRIPTION; measured X)</c>.</summary>
    public string Line(IReadOnlyDictionary<string, double> figures) => Check(figures) is { } r
        ? $"# target {Description}: {(r.Met ? "met" : "missed")} (measured {r.Measured})"
        : $"# target {Description}: not measured";
}
