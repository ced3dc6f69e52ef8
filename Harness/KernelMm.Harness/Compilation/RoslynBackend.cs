using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Emit;
using Microsoft.CodeAnalysis.Text;
using KernelMm.Harness.Scripting;

namespace KernelMm.Harness.Compilation;

/// <summary>
/// The Roslyn side of compiling a scenario, kept apart so that a warm cache never loads
/// Roslyn. A script compilation against <see cref="ScenarioGlobals"/> is checked as
/// written (so errors point at the user's own columns), then compiled again with loop
/// ticks inserted and emitted with an embedded portable PDB, so stack frames name the
/// .csx file and line.
/// </summary>
internal static class RoslynBackend
{
    /// <summary>The emitted image, or the errors.</summary>
    /// <param name="fullPath">The script.</param>
    /// <param name="assemblyName">A name unique to this script and key.</param>
    /// <param name="displayPath">How a diagnostic names a file (repo-relative where possible).</param>
    public static (byte[]? Image, string EntryType, string EntryMethod, IReadOnlyList<string> LoadedFiles, IReadOnlyList<ScriptDiagnostic> Errors)
        Compile(string fullPath, string assemblyName, Func<string, string> displayPath)
    {
        var options = new CSharpParseOptions(LanguageVersion.Latest, DocumentationMode.None, SourceCodeKind.Script);
        var text = SourceText.From(File.ReadAllText(fullPath), System.Text.Encoding.UTF8);
        string baseDir = Path.GetDirectoryName(fullPath)!;

        var plain = Create(CSharpSyntaxTree.ParseText(text, options, fullPath), assemblyName, new InstrumentingResolver(baseDir, false, options));
        var errors = Errors(plain.GetDiagnostics(), displayPath);
        var loaded = plain.SyntaxTrees.Select(t => t.FilePath).Where(p => p != fullPath).Distinct().Order(StringComparer.Ordinal).ToList();
        if (errors.Count > 0)
            return (null, "", "", loaded, errors);

        var instrumented = Create(
            CSharpSyntaxTree.ParseText(LoopInstrumenter.Instrument(text, options, fullPath), options, fullPath),
            assemblyName, new InstrumentingResolver(baseDir, true, options));
        using var pe = new MemoryStream();
        var emitted = instrumented.Emit(pe, options: new EmitOptions(debugInformationFormat: DebugInformationFormat.Embedded));
        if (!emitted.Success)
            return (null, "", "", loaded, Errors(emitted.Diagnostics, displayPath));
        var entry = instrumented.GetEntryPoint(CancellationToken.None)
            ?? throw new InvalidOperationException("a script compilation without an entry point");
        return (pe.ToArray(), entry.ContainingType.MetadataName, entry.MetadataName, loaded, []);
    }

    private static CSharpCompilation Create(SyntaxTree tree, string assemblyName, SourceReferenceResolver resolver)
    {
        var compileOptions = new CSharpCompilationOptions(
            OutputKind.DynamicallyLinkedLibrary,
            usings: ScriptReferences.Usings,
            optimizationLevel: OptimizationLevel.Debug,
            deterministic: true,
            sourceReferenceResolver: resolver,
            nullableContextOptions: NullableContextOptions.Disable);
        return CSharpCompilation.CreateScriptCompilation(
            assemblyName,
            tree,
            ScriptReferences.Paths().Select(p => MetadataReference.CreateFromFile(p)),
            compileOptions,
            previousScriptCompilation: null,
            returnType: typeof(object),
            globalsType: typeof(ScenarioGlobals));
    }

    private static List<ScriptDiagnostic> Errors(IEnumerable<Diagnostic> diagnostics, Func<string, string> displayPath) =>
        diagnostics
            .Where(d => d.Severity == DiagnosticSeverity.Error)
            .Select(d =>
            {
                if (!d.Location.IsInSource)
                    return new ScriptDiagnostic("kmm", 0, 0, d.Id, d.GetMessage(CultureInfo.InvariantCulture));
                var span = d.Location.GetMappedLineSpan();
                return new ScriptDiagnostic(displayPath(span.Path), span.StartLinePosition.Line + 1, span.StartLinePosition.Character + 1,
                    d.Id, d.GetMessage(CultureInfo.InvariantCulture));
            })
            .OrderBy(d => d.Path, StringComparer.Ordinal).ThenBy(d => d.Line).ThenBy(d => d.Column).ThenBy(d => d.Id, StringComparer.Ordinal)
            .ToList();
}
