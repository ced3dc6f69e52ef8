using System.Security.Cryptography;
using System.Text;
using Bogus;
using KernelMm.Model;
using KernelMm.Patches;

namespace KernelMm.Harness.Compilation;

/// <summary>
/// An identity of the build a script is compiled against: the module version ids of the
/// harness, patches, model and Bogus (deterministic builds give the same id for the same
/// source), the Roslyn version and the runtime. Part of the compile-cache key, so a cached
/// scenario is never run against a different harness than the one it was compiled for.
/// Computed without loading Roslyn, so that a warm cache never pays for it.
/// </summary>
internal static class HarnessBuild
{
    public static string Id { get; } = Compute();

    private static string Compute()
    {
        var sb = new StringBuilder();
        foreach (var t in new[] { typeof(HarnessBuild), typeof(Series), typeof(Kernel), typeof(Randomizer) })
            sb.Append(t.Assembly.GetName().Name).Append(' ').Append(t.Assembly.ManifestModule.ModuleVersionId).Append('\n');
        foreach (var r in typeof(HarnessBuild).Assembly.GetReferencedAssemblies().Where(a => a.Name?.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal) == true))
            sb.Append(r.FullName).Append('\n');
        sb.Append(Environment.Version).Append('\n');
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
    }
}
