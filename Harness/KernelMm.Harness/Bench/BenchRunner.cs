using KernelMm.Harness.Repo;
using KernelMm.Patches;

namespace KernelMm.Harness.Bench;

/// <summary>What <c>kmm bench</c> measures: groups of figures, and how many runs each median is of.</summary>
/// <param name="Groups">The groups to run (see <see cref="BenchRunner.GroupNames"/>).</param>
/// <param name="Runs">Runs per figure (the median is reported).</param>
/// <param name="ScaleRuns">Runs of the scale case, which takes tens of seconds each.</param>
public sealed record BenchOptions(IReadOnlySet<string> Groups, int Runs = 3, int ScaleRuns = 1);

/// <summary>
/// Runs the benchmark groups and gathers their figures in a fixed order, each the median
/// of its runs: <c>model</c> (the anonymous-memory workload and set_memory), <c>host</c>
/// (the same workload on this machine's kernel), <c>boot</c> (4 GiB and 1 TiB boots and the
/// 1 TiB machine's host memory), <c>memory</c> (host bytes per touched emulated GiB),
/// <c>suite</c> (kmm run cold and warm, one combination) and <c>scale</c> (the cover
/// letter's production case).
/// </summary>
public sealed class BenchRunner(RepoLayout repo, IReadOnlyList<string> kmmCommand, Action<string>? progress = null)
{
    public static readonly string[] GroupNames = ["model", "host", "boot", "memory", "suite", "scale"];

    /// <summary>Every group but <c>host</c>, which <c>--host</c> adds.</summary>
    public static readonly string[] DefaultGroups = ["model", "boot", "memory", "suite", "scale"];

    private readonly List<BenchFigure> _figures = [];
    private readonly List<string> _notes = [];

    /// <summary>Remarks worth a comment line: a suite that did not verify, the scale case's recorded sizes.</summary>
    public IReadOnlyList<string> Notes => _notes;

    public IReadOnlyList<BenchFigure> Run(BenchOptions o)
    {
        _figures.Clear();
        _notes.Clear();
        int runs = Math.Max(1, o.Runs);
        if (o.Groups.Contains("model"))
            Model(runs);
        if (o.Groups.Contains("host"))
            Host(runs);
        if (o.Groups.Contains("boot"))
            Boot(runs);
        if (o.Groups.Contains("memory"))
            Memory(runs);
        if (o.Groups.Contains("suite"))
            Suite(runs);
        if (o.Groups.Contains("scale"))
            Scale(Math.Max(1, o.ScaleRuns));
        return [.. _figures];
    }

    private void Add(string name, IReadOnlyList<double> values, string unit) =>
        _figures.Add(new BenchFigure(name, BenchFigure.Median(values), unit, values.Count));

    private void Model(int runs)
    {
        progress?.Invoke("model: 1 GiB of anonymous memory (write and read faults, MADV_DONTNEED, munmap)");
        ModelBench.MeasureAnon(); // warm-up: the JIT, and the first boot's one-time costs
        var r = Enumerable.Range(0, runs).Select(_ => ModelBench.MeasureAnon()).ToList();
        Add("model.write_faults_per_s", [.. r.Select(x => x.Pages / x.WriteFaults)], "faults/s");
        Add("model.read_faults_per_s", [.. r.Select(x => x.Pages / x.ReadFaults)], "faults/s");
        Add("model.dontneed_pages_per_s", [.. r.Select(x => x.Pages / x.DontNeed)], "pages/s");
        Add("model.munmap_pages_per_s", [.. r.Select(x => x.Pages / x.Munmap)], "pages/s");
        // The same per CPU second of the measuring thread: what the work costs, however busy the machine.
        Add("model.write_faults_per_cpu_s", [.. r.Select(x => x.Pages / x.WriteFaultsCpu)], "faults/s");
        Add("model.read_faults_per_cpu_s", [.. r.Select(x => x.Pages / x.ReadFaultsCpu)], "faults/s");
        Add("model.dontneed_pages_per_cpu_s", [.. r.Select(x => x.Pages / x.DontNeedCpu)], "pages/s");
        Add("model.munmap_pages_per_cpu_s", [.. r.Select(x => x.Pages / x.MunmapCpu)], "pages/s");
        progress?.Invoke("model: set_memory_ro/rw splitting and restoring");
        ModelBench.MeasureSetMemory(64);
        var sm = Enumerable.Range(0, runs).Select(_ => ModelBench.MeasureSetMemory()).ToList();
        Add("model.set_memory_calls_per_s", [.. sm.Select(x => x.PerWall)], "calls/s");
        Add("model.set_memory_calls_per_cpu_s", [.. sm.Select(x => x.PerCpu)], "calls/s");
    }

    private void Host(int runs)
    {
        if (!HostKernel.Available)
        {
            _notes.Add("host figures need Linux: skipped");
            return;
        }
        progress?.Invoke("host: the same workload on this machine's kernel");
        HostKernel.Measure(64L << 20); // warm-up
        var r = Enumerable.Range(0, runs).Select(_ => HostKernel.Measure(ModelBench.WorkloadBytes)).ToList();
        Add("host.write_faults_per_s", [.. r.Select(x => x.Pages / x.WriteFaults)], "faults/s");
        Add("host.read_faults_per_s", [.. r.Select(x => x.Pages / x.ReadFaults)], "faults/s");
        Add("host.dontneed_pages_per_s", [.. r.Select(x => x.Pages / x.DontNeed)], "pages/s");
        Add("host.munmap_pages_per_s", [.. r.Select(x => x.Pages / x.Munmap)], "pages/s");
        Add("host.write_faults_per_cpu_s", [.. r.Select(x => x.Pages / x.WriteFaultsCpu)], "faults/s");
        Add("host.read_faults_per_cpu_s", [.. r.Select(x => x.Pages / x.ReadFaultsCpu)], "faults/s");
        Add("host.dontneed_pages_per_cpu_s", [.. r.Select(x => x.Pages / x.DontNeedCpu)], "pages/s");
        Add("host.munmap_pages_per_cpu_s", [.. r.Select(x => x.Pages / x.MunmapCpu)], "pages/s");
    }

    private void Boot(int runs)
    {
        progress?.Invoke("boot: 4 GiB and 1 TiB machines");
        ModelBench.MeasureBoot(4L << 30);
        Add("boot_4g_ms", [.. Enumerable.Range(0, Math.Max(runs, 9)).Select(_ => ModelBench.MeasureBoot(4L << 30))], "ms");
        ModelBench.MeasureBoot(1L << 40);
        Add("boot_1t_ms", [.. Enumerable.Range(0, runs).Select(_ => ModelBench.MeasureBoot(1L << 40))], "ms");
        Add("boot_1t_host_mib", [.. Enumerable.Range(0, runs).Select(_ => ModelBench.MeasureBootHeap(1L << 40) / (double)(1 << 20))], "MiB");
    }

    private void Memory(int runs)
    {
        progress?.Invoke("memory: host bytes per touched emulated GiB");
        Add("host_bytes_per_emulated_gib", [.. Enumerable.Range(0, runs).Select(_ => ModelBench.MeasureBytesPerTouchedGib())], "bytes");
    }

    private void Suite(int runs)
    {
        using var suite = new SuiteBench(repo, kmmCommand);
        var cold = new List<double>();
        var warm = new List<double>();
        var coldCpu = new List<double>();
        var warmCpu = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            progress?.Invoke($"suite: kmm run, cold ({i + 1} of {runs})");
            cold.Add(suite.RunSuite(cold: true));
            if (suite.LastCpuSeconds is { } c)
                coldCpu.Add(c);
            NoteProblem(suite);
        }
        for (int i = 0; i < runs; i++)
        {
            progress?.Invoke($"suite: kmm run, warm ({i + 1} of {runs})");
            warm.Add(suite.RunSuite(cold: false));
            if (suite.LastCpuSeconds is { } c)
                warmCpu.Add(c);
            NoteProblem(suite);
        }
        Add("suite_cold_s", cold, "s");
        Add("suite_warm_s", warm, "s");
        // On a shared machine the wall time says how busy it was; the CPU time what the run cost.
        if (coldCpu.Count > 0)
            Add("suite_cold_cpu_s", coldCpu, "s");
        if (warmCpu.Count > 0)
            Add("suite_warm_cpu_s", warmCpu, "s");
        progress?.Invoke("suite: every combination in this process, one at a time");
        var perScenario = suite.CombinationTimes();
        var times = perScenario.SelectMany(s => s.Ms).ToList();
        if (times.Count == 0)
            return;
        Add("combination_median_ms", times, "ms");
        Add("combination_mean_ms", [times.Average()], "ms");
        // How cost grows with the series: every scenario runs 2^n combinations, so a 6th and a
        // 7th patch double and quadruple the model's part of the suite (the start-up does not grow).
        int combinations = Series.Posted.CombinationCount;
        double modelS = times.Sum() / 1000;
        Add("suite_model_s", [modelS], "s");
        foreach (int n in new[] { 64, 128 })
            Add($"suite_model_s_at_{n}_combinations", [modelS * n / combinations], "s");
        foreach (var (scenario, ms) in perScenario)
            Add($"scenario.{scenario}_ms", [ms.Sum()], "ms");
    }

    private void NoteProblem(SuiteBench suite)
    {
        if (suite.LastProblem is { } p && !_notes.Contains(p))
            _notes.Add(p);
    }

    private void Scale(int runs)
    {
        var seconds = new List<double>();
        var cpu = new List<double>();
        var gib = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            progress?.Invoke($"scale: {ScaleBench.ScenarioPath} ({i + 1} of {runs})");
            var r = ScaleBench.Run(repo);
            seconds.Add(r.Seconds);
            cpu.Add(r.CpuSeconds);
            gib.Add(r.PeakGib);
            if (i == 0)
                _notes.AddRange(r.Recorded.Select(l => "scale case: " + l));
        }
        Add("scale_case_s", seconds, "s");
        Add("scale_case_cpu_s", cpu, "s");
        Add("scale_case_host_gib", gib, "GiB");
    }
}
