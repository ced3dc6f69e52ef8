namespace KernelMm.Model.Mm;

/// <summary>
/// /proc/sys: the files the booted kernel has. The base kernel registers the overcommit
/// files (vm.overcommit_memory, vm.overcommit_ratio, ...); a patch registers its own
/// (vm.free_ptes, write-only). Writing or reading a file that does not exist fails, as
/// opening a missing /proc file does.
/// </summary>
public sealed class Sysctl
{
    private readonly SortedDictionary<string, (Action<long> Write, Func<long>? Read)> _files = new(StringComparer.Ordinal);

    /// <summary>register_sysctl: a file, what a write of a number to it does and, unless it is write-only (mode 0200), what a read shows.</summary>
    public void Register(string name, Action<long> write, Func<long>? read = null)
    {
        if (!_files.TryAdd(name, (write, read)))
            throw new ArgumentException($"sysctl {name} exists already", nameof(name));
    }

    public bool Exists(string name) => _files.ContainsKey(name);

    public IEnumerable<string> Names => _files.Keys;

    /// <summary>
    /// Writes <paramref name="value"/> to /proc/sys/<paramref name="name"/> (dots for slashes);
    /// false if there is no such file. A value the file rejects throws its errno (EINVAL).
    /// </summary>
    public bool Write(string name, long value)
    {
        if (!_files.TryGetValue(name, out var file))
            return false;
        file.Write(value);
        return true;
    }

    /// <summary>
    /// Reads /proc/sys/<paramref name="name"/>: null if there is no such file; EACCES for a
    /// write-only one (proc_sys_permission: even root may not read a 0200 file).
    /// </summary>
    public long? Read(string name)
    {
        if (!_files.TryGetValue(name, out var file))
            return null;
        if (file.Read is null)
            throw new KernelErrnoException($"read /proc/sys/{name.Replace('.', '/')}", Errno.EACCES, "write-only file");
        return file.Read();
    }
}
