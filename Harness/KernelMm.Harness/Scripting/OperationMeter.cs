using System.Diagnostics;
using System.Runtime.CompilerServices;
using KernelMm.Harness.Matrix;

namespace KernelMm.Harness.Scripting;

/// <summary>
/// Counts a run's calls through the globals and enforces its limits. Every facade call
/// goes through <see cref="Op()"/>; loops and functions in the script call <see cref="Tick"/>
/// (inserted by the compiler), so a loop that never calls the model still sees the clock,
/// and runaway recursion fails with an exception instead of overflowing the stack. Once a
/// limit trips it stays tripped, so a script that catches the exception is stopped again at
/// its next call or loop iteration.
/// </summary>
public sealed class OperationMeter
{
    private readonly RunLimits _limits;
    private readonly long _deadline;
    private readonly CancellationToken _cancel;
    private long _ticks;

    public OperationMeter(RunLimits limits, CancellationToken cancel = default)
    {
        _limits = limits;
        _cancel = cancel;
        _deadline = Stopwatch.GetTimestamp() + (long)(limits.WallClock.TotalSeconds * Stopwatch.Frequency);
    }

    public long Operations { get; private set; }

    /// <summary>Of <see cref="Operations"/>, the reads of a /proc-style file (they change nothing).</summary>
    public long Reads { get; private set; }

    /// <summary>Why the run was stopped, once a limit tripped.</summary>
    public string? Tripped { get; private set; }

    /// <summary>The script line the run last reached (inserted markers; 0 before the first), for a report of where a run is stuck.</summary>
    public int Line { get; private set; }

    /// <summary>The scenario-API call the run last made (null when the facade did not name it).</summary>
    public string? LastCall { get; private set; }

    /// <summary>Inserted by the scenario compiler before each statement: where the script is.</summary>
    public void At(int line) => Line = line;

    public void Op(string call)
    {
        LastCall = call;
        Op();
    }

    public void Op()
    {
        Operations++;
        if (Operations > _limits.MaxOperations)
            Trip($"operation budget exhausted: more than {_limits.MaxOperations} calls");
        Tick();
    }

    /// <summary>A call that only reads (<c>Kernel.Vmstat[...]</c>, <c>p.Status[...]</c>).</summary>
    public void Read()
    {
        Reads++;
        Op();
    }

    public void Tick()
    {
        if (Tripped is not null)
            throw new ScenarioLimitException(Tripped);
        // The clock is read every 32nd tick: a tick costs little more than a call, and a
        // limit trips at most 31 cheap calls or loop iterations late.
        if ((++_ticks & 31) == 0 && (_cancel.IsCancellationRequested || Stopwatch.GetTimestamp() > _deadline))
            Trip($"wall-clock limit of {_limits.WallClock.TotalSeconds:0.###} s reached");
        RuntimeHelpers.EnsureSufficientExecutionStack();
    }

    /// <summary>Stops the run with <paramref name="why"/> (also used when the model's own budget runs out).</summary>
    public void Trip(string why)
    {
        Tripped ??= why;
        throw new ScenarioLimitException(Tripped);
    }
}
