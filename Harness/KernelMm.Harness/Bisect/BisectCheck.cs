using KernelMm.Harness.Compilation;
using KernelMm.Harness.Matrix;
using KernelMm.Harness.Repo;
using KernelMm.Patches;

namespace KernelMm.Harness.Bisect;

/// <summary>
/// <c>kmm check</c>'s exit codes, as <c>git bisect run</c> reads them: 0 good, 1 bad, 125
/// skip (this revision cannot be tested), and anything from 128 up aborts the bisection,
/// which is what a mistake on the command line must do (2, kmm's usual usage code, would be
/// taken for "bad" at every revision).
/// </summary>
public enum CheckResult
{
    Good = 0,
    Bad = 1,
    CannotTest = 125,
    Abort = 128,
}

/// <summary>The verdict and the line that says why.</summary>
public sealed record CheckOutcome(CheckResult Result, string Message);

/// <summary>
/// One combination of one scenario judged against a condition, for <c>git bisect run kmm
/// check ...</c> over the history of the patches: good, bad, or cannot test (the scenario does
/// not exist, does not compile, throws or hits a limit at this revision; a patch id this
/// revision's series lacks; a checkpoint it does not reach; an expression that throws). An
/// expression that reads a name no combination has (a typo) is a usage error: 128.
/// </summary>
public static class BisectCheck
{
    /// <param name="repo">The clone.</param>
    /// <param name="series">The series of this revision.</param>
    /// <param name="scenarioPath">The scenario file.</param>
    /// <param name="patches">The combination: ids, <c>none</c> or <c>all</c>.</param>
    /// <param name="where">The <c>--where</c> expression, or null for "differs from no patches".</param>
    /// <param name="checkpoint">The checkpoint judged, or null for any.</param>
    /// <param name="limits">Run limits.</param>
    /// <param name="inverted"><c>--fixed</c>: bad (exit 1, "fixed") where the condition no longer holds, good (exit 0, "broken") where it does.</param>
    /// <param name="terms">The words for good and bad (git bisect's terms).</param>
    public static CheckOutcome Run(RepoLayout repo, Series series, string scenarioPath, string patches, string? where, string? checkpoint,
        RunLimits limits, bool inverted = false, BisectTerms? terms = null)
    {
        var t = terms ?? BisectTerms.Default;
        string Display(string p) => repo.Describe(p).DisplayPath;
        if (!File.Exists(scenarioPath))
            return new(CheckResult.CannotTest, $"cannot test: no scenario {scenarioPath} at this revision");
        Combination combination;
        try
        {
            combination = series.Parse(patches);
        }
        catch (ArgumentException e)
        {
            return new(CheckResult.CannotTest, $"cannot test: {e.Message}");
        }

        Condition condition;
        if (where is null)
        {
            condition = new DiffersCondition(checkpoint) { Inverted = inverted };
        }
        else
        {
            var (expression, errors) = WhereExpression.Compile(where, repo.CacheDir);
            if (expression is null)
                return new(CheckResult.Abort, string.Join("\n", errors));
            condition = new WhereCondition(expression, checkpoint) { Inverted = inverted };
        }

        var file = repo.Describe(scenarioPath);
        var compiled = new ScenarioCompiler(repo.CacheDir, Display).Compile(file);
        if (!compiled.Succeeded)
            return new(CheckResult.CannotTest, "cannot test: the scenario does not compile here\n" + string.Join("\n", compiled.Errors));

        var session = BisectSession.For(compiled.Scenario!, series, condition, limits, Display);
        var j = session.Judge(combination.Mask);
        string label = Suite.ScenarioReport.Tag(combination);
        if (condition is WhereCondition { NeverEvaluated: true } missing)
        {
            // A name this combination lacks may be one only a patch adds; a name no combination
            // of the series has is a typo, and "good" would mark every revision good.
            session.JudgeAll();
            if (missing.NeverEvaluated)
                return new(CheckResult.Abort,
                    $"--where reads a name that no combination of the {series.Name} series has at any checkpoint: {string.Join("; ", missing.MissingNames)}");
        }
        string note = condition is WhereCondition { NeverEvaluated: true } w
            ? $" (the expression read a missing name, which counts as not holding: {string.Join("; ", w.MissingNames)})"
            : "";
        return j.Verdict switch
        {
            Verdict.Bad => new(CheckResult.Bad, $"{t.New} {label}: {condition.Stated}: {j.Detail}{(inverted ? note : "")}"),
            Verdict.Good => new(CheckResult.Good, $"{t.Old} {label}: {condition.Stated}: {(inverted ? "holds" : "does not hold")}{(inverted ? "" : note)}"),
            _ => new(CheckResult.CannotTest, $"cannot test {label}: {j.Detail}"),
        };
    }
}
