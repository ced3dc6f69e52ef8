using System.Diagnostics;
using FsCheck;
using FsCheck.Fluent;
using KernelMm.Patches;
using Microsoft.FSharp.Core;

namespace KernelMm.Harness.Fuzz;

/// <summary>
/// The stateful property "no workload breaks the model under any combination", checked by
/// FsCheck over random workloads: each workload runs under every combination of the series
/// (the failing one of the last workload first, so shrinking is quick), every invariant
/// after every call. FsCheck shrinks a failing workload; the smallest that still fails is
/// kept, with its ready-to-run scenario.
/// </summary>
public sealed class FuzzCampaign(Series series, int maxSteps = 40, int parallel = 1)
{
    public sealed record Report(long Workloads, long CombinationRuns, long Calls, long CheckPasses, TimeSpan Elapsed, FuzzProgram? Minimal, FuzzFailure? Failure, string? Script);

    private long _workloads, _runs, _calls, _checks;
    private int _lastFailingMask = -1;

    /// <summary>Runs <paramref name="tests"/> workloads from <paramref name="seed"/>; stops at the first failure (shrunk).</summary>
    public Report Run(ulong seed, int tests) => Run(seed, tests, null);

    /// <summary>Batches of workloads from successive seeds until <paramref name="duration"/> is up or a workload fails.</summary>
    public Report RunFor(ulong seed, TimeSpan duration, int batch = 50, Action<Report>? progress = null)
    {
        var sw = Stopwatch.StartNew();
        Report r;
        ulong s = seed;
        do
        {
            r = Run(s++, batch, sw);
            progress?.Invoke(r);
        }
        while (r.Failure is null && sw.Elapsed < duration);
        return r;
    }

    private Report Run(ulong seed, int tests, Stopwatch? sw)
    {
        sw ??= Stopwatch.StartNew();
        FuzzProgram? minimal = null;
        FuzzFailure? failure = null;
        var property = Prop.ForAll(FuzzGen.Arbitrary(maxSteps), (FuzzProgram program) =>
        {
            Interlocked.Increment(ref _workloads);
            if (FirstFailure(program) is not { } f)
                return true;
            // FsCheck shrinks greedily: the last failing workload it tries is the smallest.
            minimal = program;
            failure = f;
            return false;
        });
        var config = Config.QuickThrowOnFailure
            .WithMaxTest(tests)
            .WithEndSize(maxSteps)
            .WithQuietOnSuccess(true)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(seed, 0x9e3779b97f4a7c15UL | 1), FSharpOption<int>.None)));
        try
        {
            Check.One(config, property);
        }
        catch (Exception) when (failure is not null)
        {
        }
        string? script = minimal is null ? null : FuzzScript.Render(minimal, failure, series);
        return new Report(_workloads, _runs, Interlocked.Read(ref _calls), Interlocked.Read(ref _checks), sw.Elapsed, minimal, failure, script);
    }

    /// <summary>The failure of the first combination (in series order, the last failing one first) that fails.</summary>
    public FuzzFailure? FirstFailure(FuzzProgram program)
    {
        if (_lastFailingMask >= 0 && Execute(program, _lastFailingMask) is { } again)
            return again;
        if (parallel <= 1)
        {
            for (int mask = 0; mask < series.CombinationCount; mask++)
            {
                if (mask != _lastFailingMask && Execute(program, mask) is { } f)
                {
                    _lastFailingMask = mask;
                    return f;
                }
            }
            return null;
        }
        // In parallel, the failure of the first failing combination in series order: the same answer.
        var failures = new FuzzFailure?[series.CombinationCount];
        Parallel.For(0, series.CombinationCount, new ParallelOptions { MaxDegreeOfParallelism = parallel }, mask =>
        {
            if (mask != _lastFailingMask)
                failures[mask] = Execute(program, mask);
        });
        for (int mask = 0; mask < failures.Length; mask++)
        {
            if (failures[mask] is { } f)
            {
                _lastFailingMask = mask;
                return f;
            }
        }
        return null;
    }

    private FuzzFailure? Execute(FuzzProgram program, int mask)
    {
        Interlocked.Increment(ref _runs);
        var run = new FuzzExecutor(series.Combination(mask)).Run(program);
        Interlocked.Add(ref _calls, run.Results.Count);
        Interlocked.Add(ref _checks, run.Checks);
        return run.Failure;
    }
}
