using System.Collections.Immutable;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Text;

namespace KernelMm.Harness.Compilation;

/// <summary>
/// Resolves <c>#load</c> like Roslyn's file resolver (relative to the including file), and
/// optionally hands out the loaded file with its loops instrumented, so limits apply inside
/// #loaded helpers too.
/// </summary>
internal sealed class InstrumentingResolver(string baseDirectory, bool instrument, CSharpParseOptions options) : SourceReferenceResolver
{
    private readonly SourceFileResolver _files = new(ImmutableArray<string>.Empty, baseDirectory);

    public override string? NormalizePath(string path, string? baseFilePath) => _files.NormalizePath(path, baseFilePath);

    public override string? ResolveReference(string path, string? baseFilePath) => _files.ResolveReference(path, baseFilePath);

    public override Stream OpenRead(string resolvedPath) => _files.OpenRead(resolvedPath);

    public override SourceText ReadText(string resolvedPath)
    {
        var text = SourceText.From(File.ReadAllText(resolvedPath), System.Text.Encoding.UTF8);
        return instrument ? LoopInstrumenter.Instrument(text, options, resolvedPath) : text;
    }

    public override bool Equals(object? other) =>
        other is InstrumentingResolver r && r._files.Equals(_files) && r.Instrument == Instrument;

    public override int GetHashCode() => HashCode.Combine(_files, Instrument);

    private bool Instrument => instrument;
}
