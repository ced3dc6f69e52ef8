using KernelMm.Harness.Repo;
using KernelMm.Harness.Scripting;

namespace KernelMm.Harness.Compilation;

/// <summary>
/// A scenario compiled once and run for every combination through its delegate: the
/// script's submission factory, which takes the submission array (globals first) and
/// returns the script's completion.
/// </summary>
public sealed class CompiledScenario
{
    private readonly Func<object[], Task<object>> _factory;

    internal CompiledScenario(ScenarioFile file, Func<object[], Task<object>> factory)
    {
        File = file;
        _factory = factory;
    }

    public ScenarioFile File { get; }

    /// <summary>Runs the script to its end against <paramref name="globals"/>; its exceptions propagate.</summary>
    public void Run(ScenarioGlobals globals)
    {
        // Slot 0 holds the globals, slot 1 the script's own submission object.
        var submissions = new object[] { globals, null! };
        _factory(submissions).GetAwaiter().GetResult();
    }
}
