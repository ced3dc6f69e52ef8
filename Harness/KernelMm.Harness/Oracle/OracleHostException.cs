namespace KernelMm.Harness.Oracle;

/// <summary>This machine's kernel cannot run the replay (not Linux x86-64, no /proc, an agent that died): exit 125.</summary>
public sealed class OracleHostException(string message) : Exception(message);
