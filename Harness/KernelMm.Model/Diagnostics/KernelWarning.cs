namespace KernelMm.Model.Diagnostics;

/// <summary>What the kernel would print as a BUG, WARN or bad state, kept in the model's log.</summary>
/// <param name="Kind">A short stable key (bad-page, double-free, stale-tlb, tlb-multimatch, cpa...).</param>
/// <param name="Message">The message, in the kernel's words where it has some.</param>
public sealed record KernelWarning(string Kind, string Message)
{
    public override string ToString() => $"{Kind}: {Message}";
}
