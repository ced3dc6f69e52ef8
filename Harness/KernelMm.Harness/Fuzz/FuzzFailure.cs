using KernelMm.Patches;

namespace KernelMm.Harness.Fuzz;

/// <summary>A workload that broke the model: under which combination, at which call (-1: the boot), and what was wrong.</summary>
public sealed record FuzzFailure(Combination Combination, int Step, string Line, string What, string? Stack)
{
    public override string ToString() =>
        $"[patches: {Combination.Label}] after call {Step + 1} ({Line}):\n{What}" + (Stack is null ? "" : $"\n{Stack}");
}
