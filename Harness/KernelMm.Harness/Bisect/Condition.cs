using KernelMm.Harness.Matrix;
using KernelMm.Harness.State;

namespace KernelMm.Harness.Bisect;

/// <summary>What a combination says about the behaviour, as <c>git bisect</c> words it.</summary>
public enum Verdict
{
    /// <summary>The behaviour does not appear.</summary>
    Good,

    /// <summary>The behaviour appears.</summary>
    Bad,

    /// <summary>The combination could not be judged (it threw, hit a limit, or the expression threw): git bisect's skip.</summary>
    Untestable,
}

/// <summary>One combination's verdict and why: where the condition held, or what made it untestable.</summary>
/// <param name="Mask">The combination (bit i: patch i of the series applied).</param>
/// <param name="Verdict">Good, bad or untestable.</param>
/// <param name="Detail">For bad, the checkpoints where it holds; for untestable, the reason; else empty.</param>
public sealed record Judgement(int Mask, Verdict Verdict, string Detail);

/// <summary>
/// The behaviour bisected for: a <c>--where</c> expression (<see cref="WhereCondition"/>) or,
/// without one, "differs from the state with no patches applied" (<see cref="DiffersCondition"/>),
/// either at one checkpoint or at any.
/// </summary>
public abstract class Condition
{
    protected Condition(string? checkpoint) => Checkpoint = checkpoint;

    /// <summary>The checkpoint judged (<c>--checkpoint</c>), or null for every one.</summary>
    public string? Checkpoint { get; }

    /// <summary>How the report states the condition.</summary>
    public abstract string Description { get; }

    /// <summary>Whether judging needs the base kernel's state (combination 0) too.</summary>
    public virtual bool NeedsBase => false;

    /// <summary>
    /// <c>--fixed</c>: looking for what makes the behaviour go away, so a combination is "new"
    /// (git bisect's bad) where the condition does not hold and "old" where it does.
    /// </summary>
    public bool Inverted { get; init; }

    /// <summary>The condition as the report states it, with "no longer" when inverted.</summary>
    public string Stated => Inverted ? $"no longer: {Description}" : Description;

    /// <summary>Judges one combination's run; <paramref name="baseline"/> is combination 0's when <see cref="NeedsBase"/>.</summary>
    public Judgement Judge(CombinationResult result, CombinationResult? baseline)
    {
        int mask = result.Combination.Mask;
        if (result.State is null)
            return new Judgement(mask, Verdict.Untestable, $"{Describe(result.Status)}: {result.Failure}");
        var checkpoints = Select(CheckpointState.Parse(result.State), out string? missing);
        if (missing is not null)
            return new Judgement(mask, Verdict.Untestable, missing);
        var j = JudgeState(mask, checkpoints, baseline);
        return !Inverted ? j : j.Verdict switch
        {
            Verdict.Bad => j with { Verdict = Verdict.Good, Detail = "" },
            Verdict.Good => j with { Verdict = Verdict.Bad, Detail = $"does not hold {Where}" },
            _ => j,
        };
    }

    protected abstract Judgement JudgeState(int mask, IReadOnlyList<CheckpointState> checkpoints, CombinationResult? baseline);

    /// <summary>The checkpoints judged: the one asked for, or all of them.</summary>
    protected IReadOnlyList<CheckpointState> Select(IReadOnlyList<CheckpointState> all, out string? missing)
    {
        missing = null;
        if (Checkpoint is null)
            return all;
        var named = all.Where(c => c.Name == Checkpoint).ToList();
        if (named.Count == 0)
            missing = $"no checkpoint '{Checkpoint}' in this combination (it has: {string.Join(", ", all.Select(c => c.Name))})";
        return named;
    }

    /// <summary>"at any checkpoint" or "at checkpoint 'x'".</summary>
    protected string Where => Checkpoint is null ? "at any checkpoint" : $"at checkpoint '{Checkpoint}'";

    private static string Describe(CombinationStatus s) => s switch
    {
        CombinationStatus.Threw => "the scenario threw",
        CombinationStatus.Stopped => "the scenario was stopped",
        _ => "not run",
    };
}

/// <summary>
/// A <c>--where</c> expression: a combination is bad when it holds at a judged checkpoint.
/// Where it reads a name the checkpoint does not have, it does not hold there; where it
/// throws otherwise, that checkpoint cannot be judged (the combination is untestable unless
/// another checkpoint shows the behaviour).
/// </summary>
public sealed class WhereCondition(WhereExpression expression, string? checkpoint = null) : Condition(checkpoint)
{
    private readonly Lock _lock = new();
    private int _evaluated, _missing;
    private readonly SortedSet<string> _missingNames = new(StringComparer.Ordinal);

    public WhereExpression Expression { get; } = expression;

    public override string Description => $"{Expression.Text}, {Where}";

    /// <summary>
    /// Every checkpoint judged so far read a missing name: the expression never evaluated, which
    /// is a typo far more often than a behaviour (the names are in <see cref="MissingNames"/>).
    /// </summary>
    public bool NeverEvaluated
    {
        get
        {
            lock (_lock)
                return _evaluated > 0 && _missing == _evaluated;
        }
    }

    public IReadOnlyList<string> MissingNames
    {
        get
        {
            lock (_lock)
                return [.. _missingNames];
        }
    }

    protected override Judgement JudgeState(int mask, IReadOnlyList<CheckpointState> checkpoints, CombinationResult? baseline)
    {
        var holds = new List<string>();
        string? error = null;
        foreach (var cp in checkpoints)
        {
            var (outcome, message) = Expression.Evaluate(cp);
            lock (_lock)
            {
                _evaluated++;
                if (outcome == WhereOutcome.Missing)
                {
                    _missing++;
                    _missingNames.Add(message!);
                }
            }
            if (outcome == WhereOutcome.True)
                holds.Add(cp.Name);
            else if (outcome == WhereOutcome.Error)
                error ??= $"checkpoint '{cp.Name}': {message}";
        }
        if (holds.Count > 0)
            return new Judgement(mask, Verdict.Bad, "holds at " + string.Join(", ", holds.Select(h => $"'{h}'")));
        return error is not null
            ? new Judgement(mask, Verdict.Untestable, "the expression threw at " + error)
            : new Judgement(mask, Verdict.Good, "");
    }
}

/// <summary>Without <c>--where</c>: a combination is bad when its state (at the judged checkpoint, or whole) differs from the base kernel's.</summary>
public sealed class DiffersCondition(string? checkpoint = null) : Condition(checkpoint)
{
    public override string Description => Checkpoint is null
        ? "differs from the state with no patches applied"
        : $"differs from the state with no patches applied, {Where}";

    public override bool NeedsBase => true;

    protected override Judgement JudgeState(int mask, IReadOnlyList<CheckpointState> checkpoints, CombinationResult? baseline)
    {
        if (mask == 0)
            return new Judgement(mask, Verdict.Good, "");
        if (baseline?.State is null)
            return new Judgement(mask, Verdict.Untestable, "the base kernel (no patches) could not be run to compare with");
        var baseCheckpoints = Select(CheckpointState.Parse(baseline.State), out string? missing);
        if (missing is not null)
            return new Judgement(mask, Verdict.Untestable, "the base kernel has " + missing);
        var differing = new List<string>();
        for (int i = 0; i < Math.Max(checkpoints.Count, baseCheckpoints.Count); i++)
        {
            if (i >= checkpoints.Count || i >= baseCheckpoints.Count)
                differing.Add(i < checkpoints.Count ? checkpoints[i].Name : baseCheckpoints[i].Name);
            else if (checkpoints[i].Name != baseCheckpoints[i].Name || checkpoints[i].Text != baseCheckpoints[i].Text)
                differing.Add(checkpoints[i].Name);
        }
        return differing.Count > 0
            ? new Judgement(mask, Verdict.Bad, "differs at " + string.Join(", ", differing.Select(h => $"'{h}'")))
            : new Judgement(mask, Verdict.Good, "");
    }
}
