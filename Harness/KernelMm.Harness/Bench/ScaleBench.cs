using System.Diagnostics;
using KernelMm.Harness.Compilation;
using KernelMm.Harness.Matrix;
using KernelMm.Harness.Repo;
using KernelMm.Patches;

namespace KernelMm.Harness.Bench;

/// <summary>
/// The production case of the pte-refcount cover letter at full size, as a benchmark
/// scenario (<c>Bench/Scenarios/pte-refcount-production.csx</c>, outside Scenarios/ so the
/// suite never runs it): run once under the whole series, timed from its boot to its last
/// state capture, with the process's peak resident memory sampled meanwhile.
/// </summary>
public static class ScaleBench
{
    public const string ScenarioPath = "Bench/Scenarios/pte-refcount-production.csx";

    /// <summary>The case's seconds, the host's peak resident memory in GiB, and the values the script recorded.</summary>
    public readonly record struct Result(double Seconds, double CpuSeconds, double PeakGib, IReadOnlyList<string> Recorded);

    public static Result Run(RepoLayout repo)
    {
        var file = repo.Describe(Path.Combine(repo.Root, ScenarioPath));
        if (!File.Exists(file.FullPath))
            throw new FileNotFoundException($"the scale scenario {ScenarioPath} is missing", file.FullPath);
        var compiled = new ScenarioCompiler(repo.CacheDir).Compile(file);
        if (!compiled.Succeeded)
            throw new InvalidOperationException($"{ScenarioPath} does not compile: {string.Join("; ", compiled.Errors)}");

        var matrix = new MatrixRunner(new RunLimits(long.MaxValue, TimeSpan.FromMinutes(10)), p => p);
        var combination = Series.Posted.Parse("all");
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        long peak = Environment.WorkingSet;
        using var done = new ManualResetEventSlim();
        var sampler = new Thread(() =>
        {
            while (!done.Wait(20))
                peak = Math.Max(peak, Environment.WorkingSet);
        }) { IsBackground = true, Name = "kmm bench memory sampler" };
        sampler.Start();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        long t0 = Stopwatch.GetTimestamp();
        var r = matrix.RunOne(compiled.Scenario!, combination);
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        // The process's CPU time (user + system, the collector's threads too): the case's cost on a busy machine.
        double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
        done.Set();
        sampler.Join();
        peak = Math.Max(peak, Environment.WorkingSet);

        if (r.Status != CombinationStatus.Completed)
            throw new InvalidOperationException($"{ScenarioPath} did not complete: {r.Failure?.Message}");
        var recorded = r.State!.Split('\n').Where(l => l.Contains(" = ", StringComparison.Ordinal)).ToList();
        return new Result(seconds, cpuSeconds, peak / (double)(1L << 30), recorded);
    }
}
