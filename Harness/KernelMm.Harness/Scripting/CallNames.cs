using System.Collections.Concurrent;

namespace KernelMm.Harness.Scripting;

/// <summary>
/// The names of the facade's calls as the meter and the trace record them
/// (<c>Kernel.AllocPages</c>), made once per name: a scenario that allocates every free page
/// through <c>Kernel.AllocPages</c> made two strings per call, a fifth of the suite's garbage.
/// </summary>
internal static class CallNames
{
    private static readonly ConcurrentDictionary<(string Prefix, string Member), string> Names = new();

    public static string Get(string prefix, string member) =>
        Names.GetOrAdd((prefix, member), static key => key.Prefix + key.Member);
}
