using System.Collections.Concurrent;
using System.Globalization;
using KernelMm.Harness.Scripting;

namespace KernelMm.Harness.Matrix;

/// <summary>
/// The limits that hold when the model itself is broken: a combination stuck inside one
/// model call (an endless loop never reaches the meter) or memory growing without bound
/// cannot be stopped from inside, so once armed (<see cref="Arm"/>, by the <c>kmm</c>
/// commands) the watchdog names the combinations running and where each is (the script
/// line it reached, its last call) and ends the process. A background thread samples the
/// working set every 200 ms; nothing is added to a run's own path but registering it.
/// </summary>
public static class RunWatchdog
{
    private static readonly ConcurrentDictionary<ScenarioRun, string> s_running = new();
    private static Action<string>? s_stop;
    private static long s_maxBytes = long.MaxValue;
    private static Thread? s_sampler;
    private static int s_stopping;

    /// <summary>Whether a stuck run ends the process (else it is abandoned and reported as stopped).</summary>
    public static bool Armed => s_stop is not null;

    /// <summary>
    /// Arms the watchdog: above <paramref name="maxBytes"/> of working set, or when a run is
    /// stuck past its wall-clock limit, <paramref name="stop"/> gets the report; it must end
    /// the process (see <see cref="ExitWith"/>).
    /// </summary>
    public static void Arm(long maxBytes, Action<string> stop)
    {
        s_maxBytes = maxBytes;
        s_stop = stop;
        if (s_sampler is not null)
            return;
        s_sampler = new Thread(Sample) { IsBackground = true, Name = "kmm watchdog" };
        s_sampler.Start();
    }

    /// <summary>Prints <paramref name="report"/> to stderr and exits with <paramref name="code"/>; if exiting hangs (a stuck thread holding a lock), fails fast.</summary>
    public static void ExitWith(string report, int code)
    {
        Console.Error.WriteLine(report);
        Console.Error.Flush();
        new Thread(() =>
        {
            Thread.Sleep(5000);
            Environment.FailFast("kmm: the process did not exit after a limit was hit");
        }) { IsBackground = true }.Start();
        Environment.Exit(code);
    }

    internal static void Enter(ScenarioRun run, string display) => s_running[run] = display;

    internal static void Leave(ScenarioRun run) => s_running.TryRemove(run, out _);

    /// <summary>A run did not come back after its wall-clock limit: stuck inside the model.</summary>
    internal static void Stuck(ScenarioRun run, string display, TimeSpan limit)
    {
        // Runs in parallel reach their limit together: the first reports and ends the process.
        if (s_stop is null || Interlocked.Exchange(ref s_stopping, 1) != 0)
        {
            if (s_stop is not null)
                Thread.Sleep(Timeout.Infinite);
            return;
        }
        s_stop(string.Create(CultureInfo.InvariantCulture,
            $"kmm: stopped: {Where(run, display)} is stuck inside one model call past the wall-clock limit of {limit.TotalSeconds:0.###} s (a model bug: the call cannot be interrupted, so kmm exits)"));
    }

    /// <summary>"Scenarios/x.csx:12 [patches: a,b] (last call: mmap, 1234 operations)".</summary>
    public static string Where(ScenarioRun run, string display)
    {
        var m = run.Meter;
        string line = m.Line > 0 ? $":{m.Line}" : "";
        string call = m.LastCall is { } c ? $"last call: {c}, " : "";
        long ops = Math.Max(m.Operations, run.KernelOperations);
        return $"{display}{line} [patches: {run.Combination.Label}] ({call}{ops} operations)";
    }

    private static void Sample()
    {
        while (true)
        {
            Thread.Sleep(200);
            long ws = Environment.WorkingSet;
            if (ws <= Volatile.Read(ref s_maxBytes) || s_stop is not { } stop)
                continue;
            if (Interlocked.Exchange(ref s_stopping, 1) != 0)
                return;
            var running = s_running.Select(kv => Where(kv.Key, kv.Value)).Order(StringComparer.Ordinal).ToList();
            string list = running.Count == 0 ? " (no combination was running)" : ":\n  " + string.Join("\n  ", running);
            stop(string.Create(CultureInfo.InvariantCulture,
                $"kmm: stopped: memory limit of {s_maxBytes >> 20} MiB reached (working set {ws >> 20} MiB) while running{list}"));
            return;
        }
    }
}
