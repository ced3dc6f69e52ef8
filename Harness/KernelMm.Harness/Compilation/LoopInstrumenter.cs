using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Text;

namespace KernelMm.Harness.Compilation;

/// <summary>
/// Inserts <c>__kmm_tick();</c> at the top of every loop body and every function body of a
/// script, so the run's limits apply to code that never calls the model (a <c>while (true)</c>
/// or runaway recursion). Only text is inserted, never a line break, so every line keeps its
/// number and stack traces still name the script's own lines. Code that cannot reach the
/// globals (static functions, types declared in the script) is left alone.
/// Each statement of a block or of the script's top level is preceded by <c>__kmm_at(line);</c>,
/// so a run stuck inside the model can be reported at the line it reached.
/// </summary>
internal static class LoopInstrumenter
{
    private const string Tick = "__kmm_tick();";

    public static SourceText Instrument(SourceText text, CSharpParseOptions options, string path)
    {
        var root = CSharpSyntaxTree.ParseText(text, options, path).GetRoot();
        var inserts = new List<(int Position, int Rank, string Text)>();
        foreach (var node in root.DescendantNodes())
        {
            switch (node)
            {
                case WhileStatementSyntax w when Reaches(w): Body(w.Statement); break;
                case DoStatementSyntax d when Reaches(d): Body(d.Statement); break;
                case ForStatementSyntax f when Reaches(f): Body(f.Statement); break;
                case CommonForEachStatementSyntax f when Reaches(f): Body(f.Statement); break;
                case MethodDeclarationSyntax m when m.Body is { } b && !IsStatic(m.Modifiers) && Reaches(m): Block(b); break;
                case LocalFunctionStatementSyntax l when l.Body is { } b && !IsStatic(l.Modifiers) && Reaches(l): Block(b); break;
                case AnonymousFunctionExpressionSyntax a when a.Block is { } b && !IsStatic(a.Modifiers) && Reaches(a): Block(b); break;
            }
            if (node is StatementSyntax st and not BlockSyntax && st.Parent is BlockSyntax or GlobalStatementSyntax && Reaches(st))
                inserts.Add((st.SpanStart, 2, $"__kmm_at({st.GetLocation().GetLineSpan().StartLinePosition.Line + 1});"));
        }
        if (inserts.Count == 0)
            return text;
        // Several insertions at one position: closing braces first (a body that ends here ends before one that starts here).
        var changes = inserts
            .GroupBy(i => i.Position)
            .OrderBy(g => g.Key)
            .Select(g => new TextChange(new TextSpan(g.Key, 0), string.Concat(g.OrderBy(i => i.Rank).Select(i => i.Text))));
        return text.WithChanges(changes);

        void Block(BlockSyntax b) => inserts.Add((b.OpenBraceToken.Span.End, 1, Tick));

        void Body(StatementSyntax s)
        {
            if (s is BlockSyntax b)
            {
                Block(b);
                return;
            }
            inserts.Add((s.SpanStart, 1, "{" + Tick));
            inserts.Add((s.Span.End, 0, "}"));
        }
    }

    private static bool IsStatic(SyntaxTokenList modifiers) => modifiers.Any(SyntaxKind.StaticKeyword);

    /// <summary>Whether code at <paramref name="node"/> can call the script's globals (not inside a declared type or a static function).</summary>
    private static bool Reaches(SyntaxNode node)
    {
        for (var n = node.Parent; n is not null; n = n.Parent)
        {
            switch (n)
            {
                case BaseTypeDeclarationSyntax:
                case LocalFunctionStatementSyntax l when IsStatic(l.Modifiers):
                case AnonymousFunctionExpressionSyntax a when IsStatic(a.Modifiers):
                case MethodDeclarationSyntax m when IsStatic(m.Modifiers):
                    return false;
            }
        }
        return true;
    }
}
