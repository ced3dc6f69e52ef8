using System.Collections.Concurrent;
using System.Diagnostics;
using KernelMm.Harness.Compilation;
using KernelMm.Harness.Matrix;
using KernelMm.Patches;

namespace KernelMm.Harness.Bisect;

/// <summary>
/// The combinations of one scenario that a bisection asks about, each run once, on demand:
/// a batch of combinations not run yet runs in parallel across cores (each on its own
/// kernel, exactly as the matrix runs it), and every result and verdict is kept, so the
/// series-order bisection, the minimal causes and the toggle effects share their runs.
/// </summary>
public sealed class BisectSession
{
    private readonly Func<int, CombinationResult> _runOne;
    private readonly int _maxParallel;
    private readonly ConcurrentDictionary<int, CombinationResult> _results = new();
    private readonly ConcurrentDictionary<int, Judgement> _judged = new();
    private readonly Stopwatch _time = new();

    /// <param name="series">The series whose combinations are run.</param>
    /// <param name="condition">The behaviour looked for.</param>
    /// <param name="runOne">Runs one combination (by mask) to its result.</param>
    /// <param name="maxParallel">Combinations run at once (default: one per core).</param>
    public BisectSession(Series series, Condition condition, Func<int, CombinationResult> runOne, int? maxParallel = null)
    {
        Series = series;
        Condition = condition;
        _runOne = runOne;
        _maxParallel = maxParallel ?? Environment.ProcessorCount;
    }

    /// <summary>A session over a compiled scenario, run by the matrix runner's guarded single-combination path.</summary>
    public static BisectSession For(CompiledScenario scenario, Series series, Condition condition, RunLimits limits,
        Func<string, string> displayPath, int? maxParallel = null)
    {
        var matrix = new MatrixRunner(limits, displayPath, maxParallel);
        return new BisectSession(series, condition, mask => matrix.RunGuarded(scenario, series.Combination(mask)), maxParallel);
    }

    public Series Series { get; }
    public Condition Condition { get; }

    /// <summary>How many distinct combinations have been run.</summary>
    public int Runs => _results.Count;

    /// <summary>Wall time spent running combinations.</summary>
    public TimeSpan RunTime => _time.Elapsed;

    /// <summary>The results so far, by mask.</summary>
    public IReadOnlyDictionary<int, CombinationResult> Results => _results;

    /// <summary>Runs the combinations of <paramref name="masks"/> not run yet, in parallel; returns all of them in the order asked.</summary>
    public IReadOnlyList<CombinationResult> Run(IEnumerable<int> masks)
    {
        var wanted = masks.ToList();
        var missing = wanted.Distinct().Where(m => !_results.ContainsKey(m)).ToList();
        if (missing.Count > 0)
        {
            _time.Start();
            try
            {
                Parallel.ForEach(missing, new ParallelOptions { MaxDegreeOfParallelism = _maxParallel }, m => _results[m] = _runOne(m));
            }
            finally
            {
                _time.Stop();
            }
        }
        return [.. wanted.Select(m => _results[m])];
    }

    /// <summary>The verdicts of <paramref name="masks"/> (the base kernel is run alongside when the condition compares with it).</summary>
    public IReadOnlyList<Judgement> Judge(IEnumerable<int> masks)
    {
        var wanted = masks.ToList();
        var toRun = wanted.Where(m => !_judged.ContainsKey(m)).ToList();
        if (toRun.Count > 0)
        {
            if (Condition.NeedsBase)
                toRun.Insert(0, 0);
            Run(toRun);
            var baseline = Condition.NeedsBase ? _results[0] : null;
            foreach (var m in toRun.Distinct())
                _judged.TryAdd(m, Condition.Judge(_results[m], baseline));
        }
        return [.. wanted.Select(m => _judged[m])];
    }

    public Judgement Judge(int mask) => Judge([mask])[0];

    /// <summary>Every combination's verdict, run in one parallel batch.</summary>
    public IReadOnlyList<Judgement> JudgeAll() => Judge(Enumerable.Range(0, Series.CombinationCount));
}
