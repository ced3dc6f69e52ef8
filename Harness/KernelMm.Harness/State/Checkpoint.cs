namespace KernelMm.Harness.State;

/// <summary>A named point of a run and the state captured there (the sections of <see cref="StateCapture"/>).</summary>
/// <param name="Name">As the script named it (<c>end</c> for the final state).</param>
/// <param name="State">The rendered sections.</param>
/// <param name="Findings">Invariant violations found there.</param>
public sealed record Checkpoint(string Name, string State, int Findings)
{
    public string Render() => $"### checkpoint: {Name}\n{State}";
}
