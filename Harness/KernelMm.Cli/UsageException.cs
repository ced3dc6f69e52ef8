namespace KernelMm.Cli;

/// <summary>A mistake on the command line or in the environment (exit code 2), with the message to print.</summary>
internal sealed class UsageException(string message) : Exception(message);
