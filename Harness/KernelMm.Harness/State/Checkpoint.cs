namespace KernelMm.Harness.State;

/// <summary>A named point of a run and the state captured there (the sections of <see cref="StateCapture"/>).</summary>
public sealed record Checkpoint(string Name, string State)
{
    public string Render() => $"### checkpoint: {Name}\n{State}";
}
