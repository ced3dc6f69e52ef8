using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using KernelMm.Harness.Matrix;
using KernelMm.Harness.State;
using KernelMm.Model;
using KernelMm.Model.Boot;
using KernelMm.Patches;

namespace KernelMm.Harness.Scripting;

/// <summary>
/// One run of a scenario under one combination: the kernel (booted at first use, or by
/// <c>Boot</c>), the meter, the checkpoints taken and the values recorded since the last
/// one. Single-threaded: each combination has its own.
/// </summary>
public sealed class ScenarioRun
{
    /// <summary>The end of the script is snapshotted under this name unless the script ended on a checkpoint.</summary>
    public const string EndCheckpoint = "end";

    private readonly List<Checkpoint> _checkpoints = [];
    private readonly List<KeyValuePair<string, string>> _recorded = [];
    private Kernel? _kernel;
    private readonly List<(string? File, int Line, string Message)> _notes = [];
    private long _opsAtCheckpoint = -1;
    private long _readsAtCheckpoint;
    private LateRecords? _lateRecords;

    public ScenarioRun(string scenarioName, Combination combination, RunLimits limits, CancellationToken cancel = default)
    {
        ScenarioName = scenarioName;
        Combination = combination;
        Limits = limits;
        Meter = new OperationMeter(limits, cancel);
        Seed = SeedOf(scenarioName);
    }

    public string ScenarioName { get; }
    public Combination Combination { get; }
    public RunLimits Limits { get; }
    public OperationMeter Meter { get; }

    /// <summary>The seed of <c>Random</c> and <c>Faker</c>: a stable hash of the scenario's name, unless the script called <c>Seed(n)</c>.</summary>
    public int Seed { get; internal set; }

    public IReadOnlyList<Checkpoint> Checkpoints => _checkpoints;

    /// <summary>Set by <c>kmm oracle</c>: records the process calls to replay on the host, and the model's figures at each checkpoint.</summary>
    public Oracle.ReplayTrace? Trace { get; set; }

    /// <summary>A kernel-internal call: the oracle lists it as not replayed.</summary>
    internal void KernelCall(string what) => Trace?.NotReplayedCall(what);

    /// <summary>The model's own count of operations so far (0 before the boot); read by the watchdog from another thread.</summary>
    public long KernelOperations => Volatile.Read(ref _kernel)?.Operations ?? 0;

    /// <summary>Invariant violations over all checkpoints so far.</summary>
    public int Findings => _checkpoints.Sum(c => c.Findings);

    /// <summary>The booted kernel; the default machine boots at first use.</summary>
    public Kernel Kernel => _kernel ?? Boot(new BootOptions());

    /// <summary>Boots a fresh kernel with this combination's patches; the previous one (if any) is dropped.</summary>
    public Kernel Boot(BootOptions options)
    {
        if (_kernel is not null)
            Trace?.Rebooted();
        _kernel = Combination.Series.Boot(options, Combination);
        // The model counts its own operations (calls and touched pages): one huge call is stopped too.
        _kernel.OperationLimit = Limits.MaxOperations;
        return _kernel;
    }

    /// <summary>
    /// Fails a call on a handle (a process, a module, a cgroup) that an earlier kernel made:
    /// after <c>Boot</c> it names nothing in the running kernel, as a pid from before a reboot
    /// names no task. Without this the call would quietly change the dropped kernel.
    /// </summary>
    internal void CheckSameBoot(Kernel bornIn, string call, Errno errno, string what)
    {
        if (!ReferenceEquals(bornIn, _kernel))
            throw new KernelErrnoException(call, errno, $"{what} belongs to a kernel that a later Boot() replaced");
    }

    /// <summary>Called with each checkpoint's name and the kernel before its state is captured (<c>kmm show --svg</c> draws the model's tables there).</summary>
    public Action<string, Kernel>? AtCheckpoint { get; set; }

    /// <summary>What a checkpoint captures when it does not say (<c>SnapshotSections</c>); the end state always uses it.</summary>
    public CaptureOptions DefaultCapture { get; set; } = CaptureOptions.Default;

    /// <summary>Where the script placed something a reader would misread (a Record that lands under a later checkpoint).</summary>
    public IReadOnlyList<(string? File, int Line, string Message)> Notes => _notes;

    /// <param name="name">The checkpoint's name (made unique).</param>
    /// <param name="options">Its sections and range (default: <see cref="DefaultCapture"/>).</param>
    public void Checkpoint(string name, CaptureOptions? options = null)
    {
        name = UniqueName(name);
        AtCheckpoint?.Invoke(name, Kernel);
        var (state, findings) = StateCapture.Capture(Kernel, _recorded, options ?? DefaultCapture);
        if (_lateRecords is { } late)
            _notes.Add((late.File, late.Line, $"Record(\"{late.Key}\"){(late.Count > 1 ? $" and {late.Count - 1} more" : "")} follow{(late.Count > 1 ? "" : "s")} "
                + $"Checkpoint(\"{_checkpoints[^1].Name}\") with only reads in between, but a value belongs to the next checkpoint: "
                + $"{(late.Count > 1 ? "they are" : "it is")} under '{name}'. Record before Checkpoint(\"{_checkpoints[^1].Name}\") to keep {(late.Count > 1 ? "them" : "it")} there."));
        _lateRecords = null;
        _checkpoints.Add(new Checkpoint(name, state, findings));
        Trace?.Checkpoint(name);
        _recorded.Clear();
        _opsAtCheckpoint = Meter.Operations;
        _readsAtCheckpoint = Meter.Reads;
    }

    /// <summary>
    /// Keeps a value for the next checkpoint (the one that captures it; the end state when no
    /// checkpoint follows). A Record right after a Checkpoint, with only reads between, reads as
    /// if it belonged to that checkpoint: it is noted (<see cref="Notes"/>).
    /// </summary>
    public void Record(string key, object? value)
    {
        if (key.Length == 0 || key.Contains('\n') || key.Contains('\r') || key.StartsWith('#') || key.Contains(" = ", StringComparison.Ordinal))
            throw new ArgumentException($"Record key must be one non-empty line, not start with '#' and not contain ' = ': '{Format(key)}'", nameof(key));
        // The Record call itself was counted; everything else since the checkpoint was a read or a Record.
        if (_checkpoints.Count > 0 && Meter.Operations - _opsAtCheckpoint == Meter.Reads - _readsAtCheckpoint + _recorded.Count + 1)
        {
            var (file, line) = ScriptLine();
            _lateRecords = _lateRecords is { } l ? l with { Count = l.Count + 1 } : new LateRecords(file, line, key, 1);
        }
        _recorded.Add(new(key, Format(value)));
    }

    private sealed record LateRecords(string? File, int Line, string Key, int Count);

    // The .csx line of the script's call (the path as the compiler saw it).
    private static (string? File, int Line) ScriptLine()
    {
        foreach (var frame in new System.Diagnostics.StackTrace(fNeedFileInfo: true).GetFrames())
            if (frame.GetFileName() is { } file && file.EndsWith(".csx", StringComparison.OrdinalIgnoreCase))
                return (file, frame.GetFileLineNumber());
        return (null, 0);
    }

    // A snapshot refers back to a checkpoint by name ("as at checkpoint 'touched'"), so names are
    // one line and unique: a repeated name gets " #2", " #3" (as does a checkpoint named "end"
    // when the script goes on after it).
    private string UniqueName(string name)
    {
        if (name.Contains('\n') || name.Contains('\r'))
            throw new ArgumentException($"checkpoint name must be one line: '{Format(name)}'", nameof(name));
        name = name.Trim();
        if (name.Length == 0)
            throw new ArgumentException("checkpoint name must not be empty", nameof(name));
        string unique = name;
        for (int n = 2; _checkpoints.Any(c => c.Name == unique); n++)
            unique = $"{name} #{n}";
        return unique;
    }

    /// <summary>
    /// Takes the final checkpoint unless the script ended right on one (nothing called and
    /// nothing recorded since), and renders the run's checkpoints.
    /// </summary>
    public string Finish()
    {
        if (_checkpoints.Count == 0 || Meter.Operations != _opsAtCheckpoint || _recorded.Count > 0)
            Checkpoint(EndCheckpoint, DefaultCapture);
        // Lines as a snapshot keeps them (no trailing blanks: a recorded "" value, but ptdump's
        // own "... N entries skipped ... "), so the snapshot gives back exactly this text.
        return string.Join("\n", string.Concat(_checkpoints.Select(c => c.Render())).Split('\n').Select(l => Snapshots.TextRules.IsExempt(l) ? l : l.TrimEnd(' ', '\t')));
    }

    /// <summary>Values as the snapshot shows them: invariant culture, lowercase booleans, one line.</summary>
    internal static string Format(object? value)
    {
        string s = value switch
        {
            null => "null",
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => value.ToString() ?? "",
        };
        return s.Replace("\r\n", "\\n").Replace("\n", "\\n").Replace("\r", "\\r");
    }

    /// <summary>First four bytes of SHA-256 of the UTF-8 name: the same on every machine and run (unlike string.GetHashCode).</summary>
    public static int SeedOf(string scenarioName) =>
        BinaryPrimitives.ReadInt32LittleEndian(SHA256.HashData(Encoding.UTF8.GetBytes(scenarioName)));
}
