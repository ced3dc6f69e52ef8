using System.Globalization;
using System.Text.RegularExpressions;

namespace KernelMm.Harness.Repo;

/// <summary>
/// What each scenario costs to run (the wall time of all its combinations, in seconds), for
/// <c>kmm run --shard</c> to balance shards by time rather than by count. Measured costs are
/// kept from the last unsharded run in <c>.kmm-cache/scenario-costs.tsv</c> (git-ignored,
/// one <c>name TAB seconds</c> line per scenario). A scenario never measured on this clone
/// (a fresh CI checkout has none) is estimated from its verified snapshot: the page
/// allocations, frees and faults it records, weighted by each outcome's combinations, plus
/// a fixed cost per combination for the boot and the state capture, converted to seconds by
/// the ratio the measured scenarios show (the estimate only ranks when none is measured).
/// The same files give the same costs, so every shard of a CI matrix deals the same way.
/// </summary>
public sealed partial class ScenarioCosts
{
    public const string FileName = "scenario-costs.tsv";

    /// <summary>Work of one combination besides the counted page events (boot, capture, checks), in events.</summary>
    public const double PerCombinationEvents = 20_000;

    private readonly string _path;
    private readonly SortedDictionary<string, double> _measured = new(StringComparer.Ordinal);

    private ScenarioCosts(string path) => _path = path;

    /// <summary>The measured costs of <paramref name="repo"/>'s last unsharded runs (none if never run or unreadable).</summary>
    public static ScenarioCosts Load(RepoLayout repo)
    {
        var costs = new ScenarioCosts(Path.Combine(repo.CacheDir, FileName));
        try
        {
            if (File.Exists(costs._path))
                foreach (var line in File.ReadAllLines(costs._path))
                {
                    var parts = line.Split('\t');
                    if (parts.Length == 2 && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double s) && s >= 0)
                        costs._measured[parts[0]] = s;
                }
        }
        catch (IOException)
        {
            // A cache that cannot be read is an empty one: the estimates stand in.
        }
        return costs;
    }

    /// <summary>Measured seconds by scenario name.</summary>
    public IReadOnlyDictionary<string, double> Measured => _measured;

    /// <summary>Notes the wall time of one scenario's run.</summary>
    public void Record(string name, double seconds) => _measured[name] = seconds;

    /// <summary>Writes the measured costs back (best effort: a read-only clone just keeps its estimates).</summary>
    public void Save()
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
            string tmp = _path + ".tmp";
            File.WriteAllLines(tmp, _measured.Select(kv => $"{kv.Key}\t{kv.Value.ToString("0.####", CultureInfo.InvariantCulture)}"));
            File.Move(tmp, _path, overwrite: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>
    /// The cost of each of <paramref name="files"/>, in their order: measured where known
    /// (under <paramref name="key"/>: the name, with the series unless it is the posted one),
    /// else estimated from <paramref name="verifiedText"/> (the verified snapshot's text, null if none).
    /// </summary>
    public IReadOnlyList<double> For(IReadOnlyList<ScenarioFile> files, Func<ScenarioFile, string> key, Func<ScenarioFile, string?> verifiedText, int combinations)
    {
        var estimates = files.Select(f => Estimate(verifiedText(f), combinations)).ToArray();
        var keys = files.Select(key).ToArray();
        double measuredSum = 0, estimatedSum = 0;
        for (int i = 0; i < files.Count; i++)
            if (_measured.TryGetValue(keys[i], out double m))
            {
                measuredSum += m;
                estimatedSum += estimates[i];
            }
        double ratio = measuredSum > 0 && estimatedSum > 0 ? measuredSum / estimatedSum : 1;
        return [.. files.Select((f, i) => _measured.TryGetValue(keys[i], out double m) ? m : estimates[i] * ratio)];
    }

    /// <summary>
    /// The estimate from a snapshot: for each outcome, its combinations times the pgalloc_*,
    /// pgfree and pgfault lines of its last checkpoint's events section, plus <see cref="PerCombinationEvents"/>
    /// per combination. Without a snapshot, the fixed part only.
    /// </summary>
    public static double Estimate(string? snapshot, int combinations)
    {
        double total = combinations * PerCombinationEvents;
        if (snapshot is null)
            return total;
        int weight = 0;
        double events = 0;
        bool inEvents = false;
        foreach (var line in snapshot.Split('\n'))
        {
            if (line.StartsWith('#'))
                inEvents = line == "#### events";
            var outcome = OutcomeLine().Match(line);
            if (outcome.Success)
            {
                total += weight * events;
                weight = int.Parse(outcome.Groups[1].Value, CultureInfo.InvariantCulture);
                events = 0;
                continue;
            }
            if (line.StartsWith("### checkpoint", StringComparison.Ordinal))
                events = 0; // counters are cumulative: the last checkpoint has them all
            var ev = inEvents ? EventLine().Match(line) : Match.Empty;
            if (ev.Success && double.TryParse(ev.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out double n))
                events += n;
        }
        return total + weight * events;
    }

    [GeneratedRegex(@"^## outcome .*\((\d+) combinations?\)$")]
    private static partial Regex OutcomeLine();

    [GeneratedRegex(@"^(?:pgalloc_\w+|pgfree|pgfault) (\d+)$")]
    private static partial Regex EventLine();
}
