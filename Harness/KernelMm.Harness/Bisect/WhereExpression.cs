using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using KernelMm.Harness.Compilation;
using KernelMm.Harness.State;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Emit;

namespace KernelMm.Harness.Bisect;

/// <summary>How a <c>--where</c> expression came out on one checkpoint.</summary>
public enum WhereOutcome
{
    True,
    False,

    /// <summary>It read a name the checkpoint does not have: the condition does not hold there.</summary>
    Missing,

    /// <summary>It threw (a recorded value that is not a number, say): the checkpoint cannot be judged.</summary>
    Error,
}

/// <summary>
/// A <c>--where</c> condition: one C# boolean expression over a checkpoint's state
/// (<see cref="WhereGlobals"/>), compiled as a script by the scenarios' own Roslyn set-up
/// (script compilation, the same references, loaded in a scenario load context) and cached
/// in <c>.kmm-cache/</c> like a scenario, so <c>git bisect run kmm check</c> compiles it once.
/// </summary>
public sealed class WhereExpression
{
    /// <summary>How diagnostics name the expression.</summary>
    public const string DisplayName = "--where";

    private static readonly ConcurrentDictionary<string, WhereExpression> Loaded = new();

    private readonly Func<object[], Task<bool>> _factory;

    private WhereExpression(string text, Func<object[], Task<bool>> factory)
    {
        Text = text;
        _factory = factory;
    }

    public string Text { get; }

    /// <summary>The compiled expression, or its errors (<c>--where:1:5: error CS0103: ...</c>).</summary>
    /// <param name="text">The expression.</param>
    /// <param name="cacheDir">The compile cache (<c>.kmm-cache/</c>), or null for none.</param>
    public static (WhereExpression? Expression, IReadOnlyList<ScriptDiagnostic> Errors) Compile(string text, string? cacheDir)
    {
        string key = Sha256($"kmm-where 2\n{HarnessBuild.Id}\n{text}")[..32];
        if (Loaded.TryGetValue(key, out var known))
            return (known, []);

        var cache = cacheDir is null ? null : new CompileCache(cacheDir);
        // One pseudo-script name for every expression: the cache keeps the latest one, which is what a
        // `git bisect run` asks for again and again.
        const string cacheName = "kmm-where";
        var entry = cache?.TryLoad(cacheName, key);
        if (entry is null)
        {
            var (image, type, method, errors) = Emit(text, "kmm-where-" + key);
            if (image is null)
                return (null, errors);
            entry = new CompileCache.Entry(image, type, method, []);
            cache?.Store(cacheName, key, entry);
        }

        var context = new ScenarioLoadContext("kmm-where-" + key);
        using var stream = new MemoryStream(entry.Image);
        var factory = context.LoadFromStream(stream).GetType(entry.EntryType, throwOnError: true)!
            .GetMethod(entry.EntryMethod, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)!
            .CreateDelegate<Func<object[], Task<bool>>>();
        var expression = Loaded.GetOrAdd(key, _ => new WhereExpression(text, factory));
        return (expression, []);
    }

    /// <summary>Evaluates the expression on one checkpoint; the message says which name was missing or what was thrown.</summary>
    public (WhereOutcome Outcome, string? Message) Evaluate(CheckpointState state)
    {
        try
        {
            bool result = _factory([new WhereGlobals(state), null!]).GetAwaiter().GetResult();
            return (result ? WhereOutcome.True : WhereOutcome.False, null);
        }
        catch (StateNameMissingException e)
        {
            return (WhereOutcome.Missing, e.Message);
        }
        catch (Exception e)
        {
            return (WhereOutcome.Error, $"{e.GetType().Name}: {e.Message}");
        }
    }

    public override string ToString() => Text;

    private static (byte[]? Image, string Type, string Method, IReadOnlyList<ScriptDiagnostic> Errors) Emit(string text, string assemblyName)
    {
        var options = new CSharpParseOptions(LanguageVersion.Latest, DocumentationMode.None, SourceCodeKind.Script);
        var tree = CSharpSyntaxTree.ParseText(text, options, DisplayName, Encoding.UTF8);
        var root = (CompilationUnitSyntax)tree.GetRoot();
        bool oneExpression = root.Members.Count == 1
            && root.Members[0] is GlobalStatementSyntax { Statement: ExpressionStatementSyntax { SemicolonToken.IsMissing: true } }
            && root.Usings.Count == 0 && !root.ContainsDirectives;
        if (!oneExpression && !tree.GetDiagnostics().Any(d => d.Severity == DiagnosticSeverity.Error))
            return (null, "", "", [new ScriptDiagnostic(DisplayName, 0, 0, "KMM0001",
                "expected one C# boolean expression over the state (e.g. Vmstat[\"nr_overhead\"] > 256), without statements or a final semicolon")]);

        var compilation = CSharpCompilation.CreateScriptCompilation(
            assemblyName,
            tree,
            ScriptReferences.Paths().Select(p => MetadataReference.CreateFromFile(p)),
            new CSharpCompilationOptions(
                OutputKind.DynamicallyLinkedLibrary,
                // KernelMm.Harness.Scripting: the size helpers (1.MiB()) work as in a scenario.
                usings: ["System", "System.Collections.Generic", "System.Linq", "KernelMm.Harness.Bisect", "KernelMm.Harness.Scripting"],
                optimizationLevel: OptimizationLevel.Release,
                deterministic: true,
                nullableContextOptions: NullableContextOptions.Disable),
            previousScriptCompilation: null,
            returnType: typeof(bool),
            globalsType: typeof(WhereGlobals));
        using var pe = new MemoryStream();
        var emitted = compilation.Emit(pe, options: new EmitOptions(debugInformationFormat: DebugInformationFormat.Embedded));
        var errors = emitted.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Select(d =>
        {
            var span = d.Location.GetLineSpan();
            return d.Location.IsInSource
                ? new ScriptDiagnostic(DisplayName, span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1, d.Id, d.GetMessage(CultureInfo.InvariantCulture))
                : new ScriptDiagnostic(DisplayName, 0, 0, d.Id, d.GetMessage(CultureInfo.InvariantCulture));
        }).ToList();
        if (!emitted.Success)
            return (null, "", "", errors.Count > 0 ? errors : [new ScriptDiagnostic(DisplayName, 0, 0, "KMM0002", "the expression did not compile")]);
        var entry = compilation.GetEntryPoint(CancellationToken.None)
            ?? throw new InvalidOperationException("a script compilation without an entry point");
        return (pe.ToArray(), entry.ContainingType.MetadataName, entry.MetadataName, []);
    }

    private static string Sha256(string s) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(s)));
}
