using System.Text;

namespace KernelMm.Harness.Oracle;

/// <summary>
/// The oracle's report: the host, the combination, then per checkpoint and process the
/// model's and the host's figures side by side. Deltas (+n) are from the process's start
/// (a forked one's from a fork of a fresh process); counts are absolute. A figure that
/// differs is marked DIFFERS; one a declared difference of era explains is marked with it.
/// </summary>
public static class OracleReport
{
    public static string Render(OracleResult r)
    {
        var sb = new StringBuilder();
        sb.Append("kmm oracle ").Append(r.Scenario).Append('\n');
        foreach (string line in r.Host.Describe())
            sb.Append(line).Append('\n');
        var corresponds = OracleRunner.Auto(null, r.Host);
        sb.Append($"host corresponds to: series {corresponds.Series.Name}, patches {corresponds.Label}\n");
        sb.Append($"model: series {r.Combination.Series.Name}, patches {r.Combination.Label}\n");
        sb.Append($"replayed: {r.CallsReplayed} calls; not replayed: {(r.NotReplayed.Count == 0 ? "none" : r.NotReplayed.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))}\n");
        foreach (string n in r.NotReplayed)
            sb.Append("  not replayed: ").Append(n).Append('\n');
        if (r.Failure is not null)
        {
            sb.Append('\n').Append(r.Failure).Append('\n');
            return sb.ToString();
        }

        foreach (var cp in r.Rows.GroupBy(x => x.Checkpoint))
        {
            sb.Append($"\ncheckpoint: {cp.Key}\n");
            var rows = cp.Where(x => x.Figure != "maps").ToList();
            int fw = Math.Max(7, rows.Select(x => x.Figure.Length).DefaultIfEmpty(0).Max());
            int mw = Math.Max(5, rows.Select(x => x.Model.Length).DefaultIfEmpty(0).Max());
            int hw = Math.Max(4, rows.Select(x => x.Host.Length).DefaultIfEmpty(0).Max());
            sb.Append($"  {"process",-16} {"figure".PadRight(fw)} {"model".PadLeft(mw)} {"host".PadLeft(hw)}\n");
            foreach (var x in cp)
            {
                string proc = x.Comm.Length > 0 ? $"{x.Pid} ({x.Comm})" : x.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
                string mark = x.Verdict switch { Verdict.Differs => "  DIFFERS", Verdict.Era => $"  era: {x.Note}", _ => "" };
                if (x.Figure == "maps")
                {
                    sb.Append($"  {proc,-16} maps{mark}\n    model: {x.Model}\n    host:  {x.Host}\n");
                    continue;
                }
                sb.Append($"  {proc,-16} {x.Figure.PadRight(fw)} {x.Model.PadLeft(mw)} {x.Host.PadLeft(hw)}{mark}".TrimEnd()).Append('\n');
            }
        }
        int agree = r.Rows.Count(x => x.Verdict == Verdict.Agrees), differ = r.Rows.Count(x => x.Verdict == Verdict.Differs),
            era = r.Rows.Count(x => x.Verdict == Verdict.Era);
        sb.Append($"\n{agree} agree, {differ} differ, {era} explained by a difference of era\n");
        return sb.ToString();
    }
}
