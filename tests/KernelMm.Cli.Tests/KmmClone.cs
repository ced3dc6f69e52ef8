using System.Diagnostics;
using System.Text;

namespace KernelMm.Cli.Tests;

/// <summary>What one <c>kmm</c> invocation did: its exit code, what it printed, how long it took.</summary>
public sealed record KmmResult(int ExitCode, string Out, string Err, TimeSpan Elapsed)
{
    /// <summary>Both streams, for assertion messages.</summary>
    public override string ToString() => $"exit code {ExitCode}\n--- stdout\n{Out}--- stderr\n{Err}";

    /// <summary>The lines kmm wrote to stderr, but for <c>kmm run</c>'s progress lines (stdout is not a terminal here).</summary>
    public IReadOnlyList<string> ErrLines => AllErrLines.Where(l => !l.StartsWith(ProgressPrefix, StringComparison.Ordinal)).ToList();

    /// <summary><c>kmm run</c>'s progress lines on stderr.</summary>
    public IReadOnlyList<string> ProgressLines => AllErrLines.Where(l => l.StartsWith(ProgressPrefix, StringComparison.Ordinal)).ToList();

    private const string ProgressPrefix = "kmm run: [";

    private IEnumerable<string> AllErrLines => Err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r'));
}

/// <summary>
/// A throwaway clone in a temp folder (KernelMmHarness.sln as the marker, Scenarios/,
/// Snapshots/), and the <c>kmm</c> command run inside it in-process, through its real entry
/// point: the working directory, the environment and the console are the clone's for the
/// length of the call. The real Scenarios/ and Snapshots/ are never touched. The
/// environment and the console are the process's, so these tests do not run in parallel.
/// </summary>
public sealed class KmmClone : IDisposable
{
    /// <summary>The variables kmm reads; each call sets all of them (unset unless given), so the caller's CI=true does not leak in.</summary>
    private static readonly string[] Variables = ["CI", "TF_BUILD", "KMM_UPDATE", "KMM_MAX_OPS", "KMM_TIMEOUT", "NO_COLOR", "COLUMNS"];

    private static readonly Lock Gate = new();

    public KmmClone()
    {
        Root = Path.Combine(Path.GetTempPath(), "kmm-cli-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(Root, "Scenarios"));
        File.WriteAllText(Path.Combine(Root, "KernelMmHarness.sln"), "");
    }

    public string Root { get; }

    public string SnapshotsDir => Path.Combine(Root, "Snapshots");

    /// <summary>Writes a file (LF line ends, UTF-8 without BOM) under the clone; returns its full path.</summary>
    public string Write(string relative, string text) => WriteBytes(relative, new UTF8Encoding(false).GetBytes(text.ReplaceLineEndings("\n")));

    public string WriteBytes(string relative, byte[] bytes)
    {
        string full = FullPath(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, bytes);
        return full;
    }

    public byte[] ReadBytes(string relative) => File.ReadAllBytes(FullPath(relative));

    public bool Exists(string relative) => File.Exists(FullPath(relative));

    public string FullPath(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>kmm as a developer runs it: not in CI (update mode <c>auto</c> = <c>new</c>).</summary>
    public KmmResult Kmm(params string[] args) => Invoke(new Dictionary<string, string>(), args);

    /// <summary>kmm as CI runs it (<c>CI=true</c>: update mode <c>no</c>, orphans fail).</summary>
    public KmmResult KmmInCi(params string[] args) => Invoke(new Dictionary<string, string> { ["CI"] = "true" }, args);

    /// <summary>kmm with these variables set (and the others of <see cref="Variables"/> unset).</summary>
    public KmmResult Invoke(IReadOnlyDictionary<string, string> env, params string[] args)
    {
        lock (Gate)
        {
            var saved = Variables.ToDictionary(v => v, Environment.GetEnvironmentVariable);
            var (oldOut, oldErr, oldCwd) = (Console.Out, Console.Error, Environment.CurrentDirectory);
            var stdout = new StringWriter { NewLine = "\n" };
            var stderr = new StringWriter { NewLine = "\n" };
            try
            {
                foreach (var v in Variables)
                    Environment.SetEnvironmentVariable(v, env.TryGetValue(v, out var given) ? given : v == "NO_COLOR" ? "1" : null);
                Console.SetOut(TextWriter.Synchronized(stdout));
                Console.SetError(TextWriter.Synchronized(stderr));
                Environment.CurrentDirectory = Root;
                var sw = Stopwatch.StartNew();
                int code = Cli.Main(args);
                return new KmmResult(code, stdout.ToString(), stderr.ToString(), sw.Elapsed);
            }
            finally
            {
                Console.Out.Flush();
                Console.Error.Flush();
                Console.SetOut(oldOut);
                Console.SetError(oldErr);
                Environment.CurrentDirectory = oldCwd;
                foreach (var (v, value) in saved)
                    Environment.SetEnvironmentVariable(v, value);
                TestContext.Out.WriteLine($"kmm {string.Join(' ', args)}\n{stdout}{stderr}");
            }
        }
    }

    /// <summary>
    /// Writes a scenario and gives it a verified snapshot the way a developer does
    /// (<c>kmm run</c>, then <c>kmm accept</c>); returns the verified file's bytes.
    /// </summary>
    public byte[] AddVerifiedScenario(string id, string script)
    {
        Write($"Scenarios/{id}.csx", script);
        var run = Kmm("run", $"Scenarios/{id}.csx");
        Assert.That(run.ExitCode, Is.EqualTo(1), "a new scenario has no verified snapshot yet\n" + run);
        var accept = Kmm("accept");
        Assert.That(accept.Out, Does.Contain($"accepted Snapshots/{id}.verified.txt"), accept.ToString());
        var verify = Kmm("run", $"Scenarios/{id}.csx");
        Assert.That(verify.ExitCode, Is.EqualTo(0), "it verifies once accepted\n" + verify);
        return ReadBytes($"Snapshots/{id}.verified.txt");
    }

    /// <summary>Every file under Snapshots/ now, by path relative to the clone.</summary>
    public SnapshotFiles Snapshots() => SnapshotFiles.Of(this);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a file still open on some platform must not fail a test.
        }
    }
}

/// <summary>The files under a clone's Snapshots/ (and Snapshots-upstream/) at one moment, to prove a command changed none of them.</summary>
public sealed class SnapshotFiles
{
    private readonly Dictionary<string, byte[]> _files;

    private SnapshotFiles(Dictionary<string, byte[]> files) => _files = files;

    public static SnapshotFiles Of(KmmClone clone)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        // Snapshots/ and every other series' Snapshots-NAME/.
        foreach (var dir in Directory.EnumerateDirectories(clone.Root, "Snapshots*"))
            foreach (var f in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
                files[Path.GetRelativePath(clone.Root, f).Replace(Path.DirectorySeparatorChar, '/')] = File.ReadAllBytes(f);
        return new SnapshotFiles(files);
    }

    public IEnumerable<string> Verified => _files.Keys.Where(k => k.EndsWith(".verified.txt", StringComparison.Ordinal)).Order(StringComparer.Ordinal);

    public IEnumerable<string> Received => _files.Keys.Where(k => k.EndsWith(".received.txt", StringComparison.Ordinal)).Order(StringComparer.Ordinal);

    /// <summary>Asserts that no verified file was created, deleted or changed since this was taken.</summary>
    public void AssertVerifiedUnchanged(KmmClone clone)
    {
        var now = Of(clone);
        Assert.That(now.Verified, Is.EqualTo(Verified), "the set of verified files");
        foreach (var v in Verified)
            Assert.That(now._files[v], Is.EqualTo(_files[v]), $"{v} was changed");
    }
}
