using System.Diagnostics;
using KernelMm.Harness.Compilation;
using KernelMm.Harness.Matrix;
using KernelMm.Harness.Repo;
using KernelMm.Harness.Suite;
using KernelMm.Patches;

namespace KernelMm.Harness.Bench;

/// <summary>
/// The suite's wall time as a user sees it: <c>kmm run</c> as a child process over every
/// scenario and combination, cold (no compile cache) and warm, in a scratch copy of the
/// clone (its Scenarios/ and Snapshots/), so the user's <c>.kmm-cache/</c> is never touched
/// and nothing is written beside the real snapshots. The median time of one combination
/// comes from an in-process pass over the same copy, one combination at a time.
/// </summary>
/// <param name="repo">The clone whose scenarios are measured.</param>
/// <param name="kmm">The command that starts kmm (the program, then its first arguments).</param>
public sealed class SuiteBench(RepoLayout repo, IReadOnlyList<string> kmm) : IDisposable
{
    private string? _scratch;

    /// <summary>The scratch copy (created at first use).</summary>
    public RepoLayout Scratch => new(_scratch ??= CopyClone());

    /// <summary>Why the last child run did not verify everything (null when it did).</summary>
    public string? LastProblem { get; private set; }

    /// <summary>CPU seconds (user and system) of the last child run, where the platform says (Linux).</summary>
    public double? LastCpuSeconds { get; private set; }

    /// <summary>Seconds of one <c>kmm run</c>; <paramref name="cold"/> empties the compile cache first.</summary>
    public double RunSuite(bool cold)
    {
        var layout = Scratch;
        if (cold && Directory.Exists(layout.CacheDir))
            Directory.Delete(layout.CacheDir, recursive: true);
        var psi = new ProcessStartInfo(kmm[0])
        {
            WorkingDirectory = layout.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in kmm.Skip(1))
            psi.ArgumentList.Add(a);
        psi.ArgumentList.Add("run");
        psi.Environment["KMM_UPDATE"] = "no";
        psi.Environment["NO_COLOR"] = "1";
        double? cpu0 = ChildCpuTime.Seconds();
        long t0 = Stopwatch.GetTimestamp();
        using var child = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {kmm[0]}");
        var stdout = child.StandardOutput.ReadToEndAsync();
        var stderr = child.StandardError.ReadToEndAsync();
        child.WaitForExit();
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        LastCpuSeconds = ChildCpuTime.Seconds() - cpu0;
        LastProblem = child.ExitCode == 0
            ? null
            : $"kmm run exited {child.ExitCode}: {Tail(stderr.Result + stdout.Result)}";
        return seconds;
    }

    /// <summary>
    /// Every combination of every scenario in this process, one at a time: each scenario's
    /// name with the wall times of its combinations in milliseconds, in path order.
    /// </summary>
    public IReadOnlyList<(string Scenario, IReadOnlyList<double> Ms)> CombinationTimes()
    {
        var layout = Scratch;
        var runner = new SuiteRunner(Series.Posted, new ScenarioCompiler(layout.CacheDir), store: null, RunLimits.Default, maxParallel: 1);
        var times = new List<(string, IReadOnlyList<double>)>();
        foreach (var file in layout.Discover([]))
        {
            var report = runner.Run(file);
            times.Add((file.Name, [.. report.Results.Where(r => r.Status == CombinationStatus.Completed).Select(r => r.Elapsed.TotalMilliseconds)]));
        }
        return times;
    }

    private string CopyClone()
    {
        string dir = Path.Combine(Path.GetTempPath(), "kmm-bench-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(repo.Root, RepoLayout.SolutionFile), Path.Combine(dir, RepoLayout.SolutionFile));
        CopyTree(repo.ScenariosDir, Path.Combine(dir, "Scenarios"), "*.csx");
        CopyTree(repo.SnapshotsDir, Path.Combine(dir, "Snapshots"), "*.verified.txt");
        return dir;
    }

    private static void CopyTree(string from, string to, string pattern)
    {
        if (!Directory.Exists(from))
            return;
        foreach (var f in Directory.EnumerateFiles(from, pattern, SearchOption.AllDirectories))
        {
            string target = Path.Combine(to, Path.GetRelativePath(from, f));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(f, target);
        }
    }

    private static string Tail(string s)
    {
        var lines = s.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return string.Join(" | ", lines.TakeLast(3));
    }

    public void Dispose()
    {
        if (_scratch is not null && Directory.Exists(_scratch))
        {
            try
            {
                Directory.Delete(_scratch, recursive: true);
            }
            catch (IOException)
            {
                // A scratch folder left in the temp directory is harmless.
            }
        }
        _scratch = null;
    }
}
