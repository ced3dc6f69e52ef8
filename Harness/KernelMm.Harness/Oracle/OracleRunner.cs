using KernelMm.Harness.Compilation;
using KernelMm.Harness.Matrix;
using KernelMm.Harness.Scripting;
using KernelMm.Patches;

namespace KernelMm.Harness.Oracle;

/// <summary>
/// <c>kmm oracle</c>: runs a scenario once in the model under one combination, recording
/// its process calls and the model's figures at each checkpoint, then replays the calls
/// on this machine's kernel and compares. Throws <see cref="OracleHostException"/> where
/// the host cannot run the replay.
/// </summary>
public static class OracleRunner
{
    /// <param name="scenario">The compiled scenario.</param>
    /// <param name="limits">The model run's limits, as for <c>kmm run</c>.</param>
    /// <param name="choose">Picks the combination once the host is known (<c>--patches auto</c>), or returns the one asked for.</param>
    public static OracleResult Run(CompiledScenario scenario, RunLimits limits, Func<HostKernelFacts, Combination> choose)
    {
        using var session = new HostSession();
        var host = HostKernelProbe.Probe(session);
        var combination = choose(host);

        var run = new ScenarioRun(scenario.File.Name, combination, limits);
        var trace = new ReplayTrace(combination);
        run.Trace = trace;
        string? failure = null;
        try
        {
            scenario.Run(new ScenarioGlobals(run));
            run.Finish();
        }
        catch (Exception e) when (e is not OracleHostException)
        {
            failure = $"the scenario failed in the model: {ExceptionLocator.Describe(e, p => p)}";
        }
        var notReplayed = trace.NotReplayed.Select(c => c.Text).ToList();
        if (failure is not null)
            return new OracleResult(scenario.File.Name, host, combination, [], 0, notReplayed, failure);

        var patches = combination.Enabled.Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        var rows = new OracleReplayer(session, host, patches).Replay(trace);
        int replayed = trace.Steps.OfType<CallStep>().Count(s => s.Call.Kind != ReplayKind.NotReplayed);
        return new OracleResult(scenario.File.Name, host, combination, rows, replayed, notReplayed, null);
    }

    /// <summary>
    /// <c>--patches auto</c>: the combination whose behaviour this host kernel has. Where
    /// MADV_DONTNEED frees empty PTE tables that is the upstream series' pt-reclaim (when no
    /// series was named, or the named one has it); otherwise the named series (or the posted
    /// one) with no patches.
    /// </summary>
    public static Combination Auto(Series? named, HostKernelFacts host)
    {
        var series = named ?? (host.PtReclaim ? Series.Landed : Series.Posted);
        var ids = new List<string>();
        if (host.PtReclaim && series.Ids.Contains("pt-reclaim"))
            ids.Add("pt-reclaim");
        return series.Parse(ids.Count == 0 ? "none" : string.Join(",", ids));
    }
}
