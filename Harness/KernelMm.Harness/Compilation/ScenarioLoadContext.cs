using System.Reflection;
using System.Runtime.Loader;

namespace KernelMm.Harness.Compilation;

/// <summary>
/// One load context per compiled scenario. Everything the script references (the
/// harness, the model, Bogus, the framework) is taken from the context that loaded the
/// harness, not from the default one: under a test host that loads tests into a context
/// of its own, this is what keeps the script's <c>ScenarioGlobals</c> the same type as
/// ours (NUnit3TestAdapter has broken scripting this way before).
/// </summary>
internal sealed class ScenarioLoadContext(string name) : AssemblyLoadContext(name)
{
    private static readonly AssemblyLoadContext Host =
        GetLoadContext(typeof(ScenarioLoadContext).Assembly) ?? Default;

    protected override Assembly? Load(AssemblyName assemblyName) => Host.LoadFromAssemblyName(assemblyName);
}
