namespace KernelMm.Harness.Compilation;

/// <summary>A compiled scenario, or the errors that stopped it.</summary>
public sealed record CompileResult(CompiledScenario? Scenario, IReadOnlyList<ScriptDiagnostic> Errors, bool FromCache, TimeSpan Elapsed)
{
    public bool Succeeded => Scenario is not null;
}
