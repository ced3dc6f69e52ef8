using KernelMm.Harness.Scripting;
using KernelMm.Model;
using KernelMm.Patches;

namespace KernelMm.Harness.Compilation;

/// <summary>What a scenario is compiled against: the assemblies it may use and the namespaces it gets without <c>using</c>.</summary>
internal static class ScriptReferences
{
    /// <summary>
    /// The framework's core (no System.Console: a scenario reports through <c>Record</c>,
    /// not by printing), the model, the patches, the harness and Bogus.
    /// </summary>
    public static IReadOnlyList<string> Paths()
    {
        string runtime = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var framework = new[]
        {
            "System.Private.CoreLib.dll", "System.Runtime.dll", "netstandard.dll", "System.Collections.dll",
            "System.Linq.dll", "System.Runtime.Numerics.dll", "System.Text.RegularExpressions.dll",
        };
        return
        [
            .. framework.Select(f => Path.Combine(runtime, f)),
            typeof(Kernel).Assembly.Location,
            typeof(Series).Assembly.Location,
            typeof(ScenarioGlobals).Assembly.Location,
            typeof(Bogus.Randomizer).Assembly.Location,
        ];
    }

    /// <summary>Imported into every script: the sizes (<c>4.KiB()</c>) and the process API's enums (<c>Access</c>, <c>Advice</c>, <c>Prot</c>).</summary>
    public static IReadOnlyList<string> Usings { get; } =
    [
        "System", "System.Collections.Generic", "System.Linq",
        "KernelMm.Harness.Scripting", "KernelMm.Model.Mm",
    ];
}
