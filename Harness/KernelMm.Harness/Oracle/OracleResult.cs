using KernelMm.Patches;

namespace KernelMm.Harness.Oracle;

/// <summary>What <c>kmm oracle</c> found for one scenario and combination.</summary>
public sealed record OracleResult(
    string Scenario,
    HostKernelFacts Host,
    Combination Combination,
    IReadOnlyList<FigureRow> Rows,
    int CallsReplayed,
    IReadOnlyList<string> NotReplayed,
    string? Failure)
{
    public bool Agrees => Failure is null && Rows.All(r => r.Verdict != Verdict.Differs);

    public IEnumerable<FigureRow> Disagreements => Rows.Where(r => r.Verdict == Verdict.Differs);
}
