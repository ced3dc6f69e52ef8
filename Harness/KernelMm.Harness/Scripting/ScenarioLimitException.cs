namespace KernelMm.Harness.Scripting;

/// <summary>A run went past its operation budget or its wall-clock limit.</summary>
public sealed class ScenarioLimitException(string message) : Exception(message);
