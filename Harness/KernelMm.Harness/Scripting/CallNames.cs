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

/// <summary>
/// One facade's last call name: a script's loop calls the same member again and again, and
/// the member name the compiler passes is the same string each time, so a reference compare
/// finds it without hashing (the dictionary lookup was 5% of the suite's time).
/// </summary>
internal struct LastCallName(string prefix)
{
    private string? _member;
    private string _name = "";

    public string Get(string member)
    {
        if (!ReferenceEquals(member, _member))
        {
            _name = CallNames.Get(prefix, member);
            _member = member;
        }
        return _name;
    }
}
