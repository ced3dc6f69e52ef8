using System.Runtime.CompilerServices;

// The end-to-end tests drive the command in-process through Cli.Main (faster than `dotnet run`).
[assembly: InternalsVisibleTo("KernelMm.Cli.Tests")]
