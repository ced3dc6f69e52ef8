using System.Diagnostics;

namespace KernelMm.Cli.Tests.Limits;

/// <summary>
/// A model bug that no run limit inside the process can stop (an endless loop inside one
/// model call, memory growing without bound): the real kmm process reports the combination
/// and the script line, and exits.
/// </summary>
[Parallelizable(ParallelScope.Children)]
public class StuckModelTests
{
    private static (int Exit, string Stderr, TimeSpan Took) Kmm(string script, params (string, string)[] env)
    {
        string dir = Path.Combine(Path.GetTempPath(), "kmm-stuck-" + Guid.NewGuid().ToString("n"));
        Directory.CreateDirectory(dir);
        try
        {
            string csx = Path.Combine(dir, "stuck.csx");
            File.WriteAllText(csx, script);
            var psi = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "kmm.dll"), "run", csx])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                WorkingDirectory = AppContext.BaseDirectory,
            };
            foreach (var (k, v) in env)
                psi.Environment[k] = v;
            var sw = Stopwatch.StartNew();
            using var p = Process.Start(psi)!;
            var stderr = p.StandardError.ReadToEndAsync();
            _ = p.StandardOutput.ReadToEndAsync();
            // A guard against a hang, not a timing: generous for a loaded machine, where compiling the script alone takes a minute.
            if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
            {
                p.Kill(entireProcessTree: true);
                Assert.Fail("kmm did not exit");
            }
            return (p.ExitCode, stderr.Result, sw.Elapsed);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void AnEndlessLoopInsideTheModelEndsTheProcessNamingWhere()
    {
        var (exit, stderr, took) = Kmm("""
            var p = Spawn("w");
            Kernel.Model.RegisterShrinker(new KernelMm.Model.Vmscan.Shrinker(static _ => 1, static _ => { while (true) { } }));
            Kernel.Reclaim();
            """, ("KMM_TIMEOUT", "1"));
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(stderr, Does.Match(@"kmm: stopped: \S*stuck\.csx:3 \[patches: [a-z,-]+\] \(last call: Kernel\.Reclaim, \d+ operations\) is stuck inside one model call past the wall-clock limit of 1 s"));
        TestContext.Out.WriteLine($"exited after {took.TotalSeconds:0.0} s");
    }

    [Test]
    public void MemoryGrowingWithoutBoundEndsTheProcessNamingWhatRan()
    {
        var (exit, stderr, _) = Kmm("""
            var p = Spawn("w");
            Kernel.Model.RegisterShrinker(new KernelMm.Model.Vmscan.Shrinker(static _ => 1, static _ => { var hold = new List<byte[]>(); while (true) { var b = new byte[1 << 20]; b.AsSpan().Fill(1); hold.Add(b); } }));
            Kernel.Reclaim();
            """, ("KMM_MAX_MEMORY", "400"));
        Assert.That(exit, Is.EqualTo(1));
        Assert.That(stderr, Does.Contain("kmm: stopped: memory limit of 400 MiB reached"));
        Assert.That(stderr, Does.Match(@"\n  \S*stuck\.csx:3 \[patches: [a-z,-]+\] \(last call: Kernel\.Reclaim, \d+ operations\)"));
    }
}
