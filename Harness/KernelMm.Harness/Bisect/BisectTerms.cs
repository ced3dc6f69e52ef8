namespace KernelMm.Harness.Bisect;

/// <summary>
/// The words for the two states, as git bisect's <c>--term-old</c> / <c>--term-new</c>: "good"
/// and "bad" by default; <c>--fixed</c> looks for what makes a behaviour go away, "broken" and
/// "fixed". The new term is what the bisection looks for the first of.
/// </summary>
public sealed record BisectTerms(string Old, string New)
{
    public static BisectTerms Default { get; } = new("good", "bad");

    public static BisectTerms Fixed { get; } = new("broken", "fixed");

    /// <summary>The terms of the options: <c>--fixed</c>'s, overridden by <c>--term-old</c>/<c>--term-new</c>; throws <see cref="ArgumentException"/> for an empty or equal pair.</summary>
    public static BisectTerms From(bool fixedMode, string? termOld, string? termNew)
    {
        var t = fixedMode ? Fixed : Default;
        t = new BisectTerms(termOld?.Trim() ?? t.Old, termNew?.Trim() ?? t.New);
        if (t.Old.Length == 0 || t.New.Length == 0 || t.Old.Any(char.IsWhiteSpace) || t.New.Any(char.IsWhiteSpace))
            throw new ArgumentException("--term-old and --term-new need one word each");
        if (t.Old == t.New)
            throw new ArgumentException($"--term-old and --term-new are both '{t.Old}'");
        return t;
    }
}
