using System.Diagnostics;
using KernelMm.Harness.Compilation;
using KernelMm.Harness.Matrix;
using KernelMm.Harness.Suite;
using KernelMm.Patches;

namespace KernelMm.Scenarios.Tests;

/// <summary>
/// Determinism, proved on the whole suite: the snapshots rendered with one worker thread,
/// with the default parallelism (<see cref="ScenarioTests"/>), and by a separate kmm
/// process are each byte for byte the verified files.
/// </summary>
public class DeterminismTests
{
    [Test]
    public void OneThreadRendersEveryVerifiedSnapshotByteForByte()
    {
        var runner = new SuiteRunner(Series.Posted, new ScenarioCompiler(Clone.Repo.CacheDir, Clone.Display), store: null,
            RunLimits.FromEnvironment(), Clone.Display, maxParallel: 1);
        var differ = new List<string>();
        foreach (var file in Clone.Repo.Discover([]))
        {
            var report = runner.Run(file);
            string verified = Path.Combine(Clone.Repo.SnapshotsDir, file.Name + ".verified.txt");
            if (report.Snapshot is null || !File.Exists(verified)
                || !File.ReadAllBytes(verified).AsSpan().SequenceEqual(System.Text.Encoding.UTF8.GetBytes(report.Snapshot)))
                differ.Add(file.DisplayPath);
        }
        Assert.That(differ, Is.Empty, "rendered with one thread, these differ from their verified snapshot");
    }

    [Test]
    public void AnotherProcessVerifiesEverySnapshot()
    {
        var psi = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "kmm.dll"), "run"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Clone.Repo.Root,
        };
        // Nothing written, whatever happens: the verified files are the reference.
        psi.Environment["KMM_UPDATE"] = "no";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        // A guard against a hang: the suite takes a minute on a quiet 2-core machine, several under load.
        Assert.That(p.WaitForExit(TimeSpan.FromMinutes(10)), Is.True, "kmm run did not finish");
        Assert.That(p.ExitCode, Is.EqualTo(0), $"{stdout.Result}\n{stderr.Result}");
        Assert.That(stdout.Result, Does.Match(@"(?m)^\d+ verified, 0 changed, 0 new, 0 failed"));
    }
}
