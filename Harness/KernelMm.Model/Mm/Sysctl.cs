namespace KernelMm.Model.Mm;

/// <summary>
/// /proc/sys: the writable files the booted kernel has. The base kernel registers none
/// that the model acts on; a patch registers its own (vm.free_ptes). Writing a file that
/// does not exist fails, as opening a missing /proc file does.
/// </summary>
public sealed class Sysctl
{
    private readonly SortedDictionary<string, Action<long>> _handlers = new(StringComparer.Ordinal);

    /// <summary>register_sysctl: a file and what a write of a number to it does.</summary>
    public void Register(string name, Action<long> write)
    {
        if (!_handlers.TryAdd(name, write))
            throw new ArgumentException($"sysctl {name} exists already", nameof(name));
    }

    public bool Exists(string name) => _handlers.ContainsKey(name);

    public IEnumerable<string> Names => _handlers.Keys;

    /// <summary>Writes <paramref name="value"/> to /proc/sys/<paramref name="name"/> (dots for slashes); false if there is no such file.</summary>
    public bool Write(string name, long value)
    {
        if (!_handlers.TryGetValue(name, out var handler))
            return false;
        handler(value);
        return true;
    }
}
