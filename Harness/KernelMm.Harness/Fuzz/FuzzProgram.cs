using KernelMm.Model.Boot;

namespace KernelMm.Harness.Fuzz;

/// <summary>A random workload: the machine it boots and its calls, in order.</summary>
public sealed record FuzzProgram(BootOptions Boot, IReadOnlyList<FuzzStep> Steps)
{
    /// <summary>The workload with <paramref name="steps"/> instead of its own.</summary>
    public FuzzProgram With(IEnumerable<FuzzStep> steps) => this with { Steps = [.. steps] };

    // FsCheck prints the shrunk counterexample with ToString: the ready-to-run scenario.
    public override string ToString() => FuzzScript.Render(this, null);
}
