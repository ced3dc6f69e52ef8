namespace KernelMm.Harness.Scripting;

/// <summary>
/// A read-only name-to-value view for scripts (<c>Kernel.Vmstat["nr_free_pages"]</c>,
/// <c>p.Status["VmPTE"]</c>), counted as one call per read. A missing name throws
/// <see cref="KeyNotFoundException"/> naming the file it is missing from.
/// </summary>
public sealed class Lookup
{
    private readonly OperationMeter _meter;
    private readonly Func<IEnumerable<(string Name, long Value)>> _lines;
    private readonly string _what;

    internal Lookup(OperationMeter meter, string what, Func<IEnumerable<(string Name, long Value)>> lines)
    {
        _meter = meter;
        _what = what;
        _lines = lines;
    }

    public long this[string name]
    {
        get
        {
            _meter.Read();
            foreach (var (n, v) in _lines())
                if (n == name)
                    return v;
            throw new KeyNotFoundException($"{_what} has no '{name}' here{KernelMm.Patches.Spelling.DidYouMean(name, _lines().Select(l => l.Name))}");
        }
    }

    public bool Has(string name)
    {
        _meter.Read();
        return _lines().Any(l => l.Name == name);
    }

    /// <summary>Every name and value, in the file's order.</summary>
    public IReadOnlyList<(string Name, long Value)> All()
    {
        _meter.Read();
        return [.. _lines()];
    }
}
