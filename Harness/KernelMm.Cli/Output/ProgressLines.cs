using System.Diagnostics;
using System.Globalization;
using KernelMm.Harness.Repo;
using KernelMm.Harness.Snapshots;
using KernelMm.Harness.Suite;

namespace KernelMm.Cli.Output;

/// <summary>
/// <c>kmm run</c>'s progress when stdout is not a terminal (a CI log, a redirect, a pipe):
/// plain lines on stderr, one as each scenario finishes, with its status and time, and one
/// every <see cref="Heartbeat"/> while a long scenario is still running, so a log shows
/// life at a steady pace. Every line starts with <see cref="Prefix"/> and the scenario's
/// place in the run, so a reader (or a test) can tell them from the problems kmm reports.
/// A terminal gets the Spectre progress display instead.
/// </summary>
internal sealed class ProgressLines(TextWriter err, int total, TimeSpan? heartbeat = null)
{
    public const string Prefix = "kmm run: [";

    private readonly Lock _gate = new();
    private readonly long _start = Stopwatch.GetTimestamp();
    private readonly TimeSpan _heartbeat = heartbeat ?? Heartbeat;
    private long _lastLine = Stopwatch.GetTimestamp();
    private int _index;
    private int _doneInScenario;
    private string _current = "";
    private int _combinations;

    /// <summary>How long a scenario may run without a line before one says it is still going.</summary>
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(10);

    /// <summary>A scenario starts (called in run order), under <paramref name="series"/> when it is not the default one.</summary>
    public void Starting(ScenarioFile file, int combinations, string? series = null)
    {
        lock (_gate)
        {
            _index++;
            _current = series is null ? file.DisplayPath : $"{file.DisplayPath} [{series}]";
            _combinations = combinations;
            _doneInScenario = 0;
        }
    }

    /// <summary>One combination finished (from a worker thread): a line if the last was long ago.</summary>
    public void CombinationDone()
    {
        lock (_gate)
        {
            _doneInScenario++;
            if (Stopwatch.GetElapsedTime(_lastLine) < _heartbeat)
                return;
            Write($"{_current}: {_doneInScenario} of {_combinations} combinations done, still running ({Seconds(Stopwatch.GetElapsedTime(_start))} elapsed)");
        }
    }

    /// <summary>A scenario finished: its status, combinations and time.</summary>
    public void Finished(ScenarioReport r)
    {
        lock (_gate)
        {
            var time = r.CompileTime + r.RunTime;
            string compiled = r.Status == ScenarioStatus.CompileError ? "" : r.CompiledFromCache ? ", compiled from cache" : $", compiled in {Seconds(r.CompileTime)}";
            Write($"{r.Label}: {Describe(r.Status)} ({SnapshotRenderer.Plural(r.Combinations, "combination")} in {Seconds(time)}{compiled}; {Seconds(Stopwatch.GetElapsedTime(_start))} elapsed)");
        }
    }

    private void Write(string text)
    {
        err.WriteLine($"{Prefix}{_index}/{total}] {text}");
        err.Flush();
        _lastLine = Stopwatch.GetTimestamp();
    }

    private static string Describe(ScenarioStatus s) => s switch
    {
        ScenarioStatus.Verified => "verified",
        ScenarioStatus.Changed => "snapshot changed",
        ScenarioStatus.New => "new snapshot",
        ScenarioStatus.Updated => "snapshot updated",
        ScenarioStatus.Ran => "ran (not verified)",
        ScenarioStatus.CompileError => "compile error",
        ScenarioStatus.Threw => "threw",
        _ => "stopped by a limit",
    };

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.00", CultureInfo.InvariantCulture) + " s";
}
