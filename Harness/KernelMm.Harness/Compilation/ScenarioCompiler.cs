using System.Collections.Concurrent;
using System.Diagnostics;
using System.Reflection;
using KernelMm.Harness.Repo;

namespace KernelMm.Harness.Compilation;

/// <summary>
/// Compiles scenarios once: from this compiler's memory if it compiled the script already,
/// else from the on-disk cache (no Roslyn at all), else with Roslyn, storing the result.
/// Roslyn costs about a second for the first script of a process and a tenth for each
/// further one, and each load leaves an assembly behind, hence both caches.
/// </summary>
/// <param name="cacheDir">The on-disk cache (<c>.kmm-cache/</c>); null for none.</param>
/// <param name="displayPath">How diagnostics name a file (repo-relative where possible).</param>
public sealed class ScenarioCompiler(string? cacheDir, Func<string, string>? displayPath = null)
{
    private readonly ConcurrentDictionary<string, (CompiledScenario Scenario, IReadOnlyList<string> Loaded, DateTime[] Stamps)> _loaded = new();

    private readonly CompileCache? _cache = cacheDir is null ? null : new CompileCache(cacheDir);
    private readonly Func<string, string> _display = displayPath ?? (p => p);

    // Compiles under way or done ahead by Prefetch, by key: the caller that asked for the
    // scenario takes the result (waiting if it is still compiling) as if it had compiled it.
    private readonly ConcurrentDictionary<string, Lazy<CompileResult>> _ahead = new();

    public CompileResult Compile(ScenarioFile file)
    {
        string key = CompileCache.KeyOf(file.FullPath);
        var mine = Later(file, key);
        var ahead = _ahead.GetOrAdd(key, mine);
        try
        {
            return ahead.Value;
        }
        catch (Exception) when (!ReferenceEquals(ahead, mine))
        {
            // What went wrong ahead (a read error, the cache's folder) is tried again here,
            // so the caller sees its own failure or none, as without the prefetch.
            return CompileNow(file, key);
        }
        finally
        {
            _ahead.TryRemove(KeyValuePair.Create(key, ahead));
        }
    }

    /// <summary>
    /// Compiles <paramref name="files"/> in order on a background thread, ahead of the
    /// <see cref="Compile"/> calls that will ask for them: a cold run's Roslyn work (a fifth
    /// of a second a scenario, on one core) then overlaps the previous scenario's combinations
    /// instead of leaving a core idle. Results and compile errors are the same as compiling on
    /// demand; an exception ahead is retried by the caller's own Compile.
    /// </summary>
    public void Prefetch(IReadOnlyList<ScenarioFile> files)
    {
        if (files.Count < 2)
            return;
        var thread = new Thread(() =>
        {
            foreach (var file in files.Skip(1))
            {
                try
                {
                    string key = CompileCache.KeyOf(file.FullPath);
                    _ = _ahead.GetOrAdd(key, _ => Later(file, key)).Value;
                }
                catch (Exception)
                {
                    // The caller's own Compile tries again and reports what it meets.
                }
            }
        })
        { IsBackground = true, Name = "kmm compile-ahead", Priority = ThreadPriority.BelowNormal };
        thread.Start();
    }

    private Lazy<CompileResult> Later(ScenarioFile file, string key) => new(() => CompileNow(file, key));

    private CompileResult CompileNow(ScenarioFile file, string key)
    {
        var sw = Stopwatch.StartNew();

        if (_loaded.TryGetValue(key, out var known) && Unchanged(known.Loaded, known.Stamps))
            return new CompileResult(known.Scenario, [], true, sw.Elapsed);

        bool fromCache = true;
        var entry = _cache?.TryLoad(file.FullPath, key);
        if (entry is null)
        {
            fromCache = false;
            var (image, type, method, loaded, errors) = RoslynBackend.Compile(file.FullPath, "kmm-scenario-" + key, Display(file));
            if (image is null)
                return new CompileResult(null, errors, false, sw.Elapsed);
            entry = new CompileCache.Entry(image, type, method, loaded);
            _cache?.Store(file.FullPath, key, entry);
        }

        var scenario = Load(file, key, entry);
        _loaded[key] = (scenario, entry.LoadedFiles, Stamps(entry.LoadedFiles));
        return new CompileResult(scenario, [], fromCache, sw.Elapsed);
    }

    private Func<string, string> Display(ScenarioFile file) => p => p == file.FullPath ? file.DisplayPath : _display(p);

    private static CompiledScenario Load(ScenarioFile file, string key, CompileCache.Entry entry)
    {
        var context = new ScenarioLoadContext("kmm-scenario-" + key);
        using var image = new MemoryStream(entry.Image);
        var assembly = context.LoadFromStream(image);
        var factory = assembly.GetType(entry.EntryType, throwOnError: true)!
            .GetMethod(entry.EntryMethod, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)
            ?? throw new InvalidOperationException($"compiled scenario {file.DisplayPath} has no {entry.EntryType}.{entry.EntryMethod}");
        return new CompiledScenario(file, factory.CreateDelegate<Func<object[], Task<object>>>());
    }

    private static DateTime[] Stamps(IReadOnlyList<string> files) =>
        [.. files.Select(f => File.Exists(f) ? File.GetLastWriteTimeUtc(f) : DateTime.MinValue)];

    // The main script is covered by the key (its text); #loaded files by their write times while this process lives.
    private static bool Unchanged(IReadOnlyList<string> files, DateTime[] stamps) => Stamps(files).SequenceEqual(stamps);
}
