using System.Diagnostics;
using KernelMm.Harness.Compilation;
using KernelMm.Harness.Scripting;
using KernelMm.Model;
using KernelMm.Patches;

namespace KernelMm.Harness.Matrix;

/// <summary>
/// Runs a compiled scenario under every combination of a series, in parallel across
/// cores, each combination on its own freshly booted kernel with its own seeded random
/// source. Results come back indexed by combination, so their order never depends on
/// thread timing. When a combination hits a limit, the combinations not yet started are
/// skipped; the others still run to the end.
/// </summary>
public sealed class MatrixRunner(RunLimits limits, Func<string, string> displayPath, int? maxParallel = null)
{
    /// <summary>How long past its wall-clock limit a run may take to notice it before its thread is abandoned.</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(3);

    // Deep model walks and script recursion both need room; the meter turns overflow into an exception well before this.
    private const int StackSize = 16 << 20;

    public IReadOnlyList<CombinationResult> Run(CompiledScenario scenario, Series series, Action<CombinationResult>? done = null)
    {
        var results = new CombinationResult[series.CombinationCount];
        int stop = 0;
        var options = new ParallelOptions { MaxDegreeOfParallelism = maxParallel ?? Environment.ProcessorCount };
        Parallel.For(0, results.Length, options, i =>
        {
            var combination = series.Combination(i);
            var r = Volatile.Read(ref stop) != 0
                ? new CombinationResult(combination, CombinationStatus.NotStarted, null, null, TimeSpan.Zero, 0)
                : RunGuarded(scenario, combination);
            if (r.Status == CombinationStatus.Stopped)
                Volatile.Write(ref stop, 1);
            results[i] = r;
            done?.Invoke(r);
        });
        return results;
    }

    /// <summary>
    /// One combination on a thread of its own: if the run does not return shortly after its
    /// wall-clock limit (stuck inside one long model call that never reaches the meter), it
    /// is reported as stopped and its thread left behind as a background thread.
    /// </summary>
    public CombinationResult RunGuarded(CompiledScenario scenario, Combination combination, Action<string, Kernel>? atCheckpoint = null)
    {
        using var cancel = new CancellationTokenSource();
        CombinationResult? result = null;
        ScenarioRun? running = null;
        var thread = new Thread(() => result = RunOne(scenario, combination, cancel.Token, atCheckpoint, r => running = r), StackSize)
        {
            IsBackground = true,
            Name = $"kmm {scenario.File.Name} [{combination.Label}]",
        };
        var sw = Stopwatch.StartNew();
        thread.Start();
        if (thread.Join(limits.WallClock + Grace))
            return result!;
        cancel.Cancel();
        if (thread.Join(Grace))
            return result!;
        if (Volatile.Read(ref running) is { } stuck)
            RunWatchdog.Stuck(stuck, scenario.File.DisplayPath, limits.WallClock);
        return new CombinationResult(combination, CombinationStatus.Stopped, null,
            new RunFailure(null, $"wall-clock limit of {limits.WallClock.TotalSeconds:0.###} s reached inside one model call; the run was abandoned", ""),
            sw.Elapsed, 0);
    }

    /// <summary>One combination on the calling thread; <paramref name="atCheckpoint"/> sees the kernel at each checkpoint.</summary>
    public CombinationResult RunOne(CompiledScenario scenario, Combination combination, CancellationToken cancel = default, Action<string, Kernel>? atCheckpoint = null) =>
        RunOne(scenario, combination, cancel, atCheckpoint, null);

    private CombinationResult RunOne(CompiledScenario scenario, Combination combination, CancellationToken cancel, Action<string, Kernel>? atCheckpoint, Action<ScenarioRun>? started)
    {
        var sw = Stopwatch.StartNew();
        var run = new ScenarioRun(scenario.File.Name, combination, limits, cancel) { AtCheckpoint = atCheckpoint };
        started?.Invoke(run);
        RunWatchdog.Enter(run, scenario.File.DisplayPath);
        try
        {
            return RunMetered(scenario, combination, run, sw);
        }
        finally
        {
            RunWatchdog.Leave(run);
        }
    }

    private CombinationResult RunMetered(CompiledScenario scenario, Combination combination, ScenarioRun run, Stopwatch sw)
    {
        CombinationResult Failed(CombinationStatus status, RunFailure f) =>
            new(combination, status, null, f, sw.Elapsed, run.Meter.Operations);
        try
        {
            scenario.Run(new ScenarioGlobals(run));
            if (run.Meter.Tripped is { } why)
                return Failed(CombinationStatus.Stopped, new RunFailure(null, $"stopped: {why} (the script caught the limit and went on)", ""));
            string state = run.Finish();
            return new CombinationResult(combination, CombinationStatus.Completed, state, null, sw.Elapsed, run.Meter.Operations, run.Findings)
            {
                Notes = [.. run.Notes.Select(n => n.File is null ? n.Message : $"{displayPath(n.File)}:{n.Line}: {n.Message}")],
            };
        }
        catch (ScenarioLimitException e)
        {
            return Failed(CombinationStatus.Stopped, ExceptionLocator.Describe(e, displayPath, "stopped: " + e.Message));
        }
        catch (OperationBudgetExceededException e)
        {
            return Failed(CombinationStatus.Stopped, ExceptionLocator.Describe(e, displayPath, "stopped: " + e.Message));
        }
        catch (InsufficientExecutionStackException e)
        {
            return Failed(CombinationStatus.Stopped, ExceptionLocator.Describe(e, displayPath, "stopped: recursion too deep (stack nearly exhausted)"));
        }
        catch (Exception e)
        {
            return Failed(CombinationStatus.Threw, ExceptionLocator.Describe(e, displayPath));
        }
    }
}
