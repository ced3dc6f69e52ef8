namespace KernelMm.Model.Mm;

/// <summary>
/// A memory cgroup: the memory and kmem page_counters (v1 memory.usage_in_bytes and
/// memory.kmem.usage_in_bytes) and the per-type charges that memory.stat shows (v2 names:
/// anon, kernel, kernel_stack, pagetables), attributed when a page is charged and removed
/// when its charge is.
/// </summary>
public sealed class Memcg
{
    internal Memcg(int id, string name)
    {
        Id = id;
        Name = name;
    }

    /// <summary>mem_cgroup_id: 1..255 (0 means "no memcg" in struct page).</summary>
    public int Id { get; }

    public string Name { get; }

    /// <summary>MOVE_ANON: bit 0 of memory.move_charge_at_immigrate, move the anonymous pages' charges with the task.</summary>
    public const long MOVE_ANON = 0x1;

    /// <summary>MOVE_FILE: bit 1, the file pages the task maps (the model has none: accepted, moves nothing).</summary>
    public const long MOVE_FILE = 0x2;

    /// <summary>MOVE_MASK: the bits mem_cgroup_move_charge_write accepts.</summary>
    public const long MOVE_MASK = MOVE_ANON | MOVE_FILE;

    /// <summary>
    /// memory.move_charge_at_immigrate (v1 only): read by mem_cgroup_can_attach of a task
    /// moving into this cgroup. 0 by default: a task's existing charges stay where they are.
    /// </summary>
    public long MoveChargeAtImmigrate { get; internal set; }

    /// <summary>
    /// False after rmdir (css offline). A removed cgroup lives on, dying, while pages are
    /// still charged to it (page-&gt;mem_cgroup pins it): their uncharges still come here.
    /// </summary>
    public bool Online { get; internal set; } = true;

    /// <summary>Pages charged to the memory counter.</summary>
    public long MemoryPages { get; internal set; }

    /// <summary>Pages charged to the kmem counter.</summary>
    public long KmemPages { get; internal set; }

    internal long AnonPages { get; set; }
    internal long PageTablePages { get; set; }
    internal long KernelStackPages { get; set; }

    /// <summary>memory.kmem.usage_in_bytes.</summary>
    public long KmemUsage => KmemPages << 12;

    /// <summary>memory.usage_in_bytes.</summary>
    public long Usage => MemoryPages << 12;

    /// <summary>memory.stat lines, in bytes: anon, kernel, kernel_stack, pagetables.</summary>
    public IEnumerable<(string Name, long Bytes)> StatLines()
    {
        yield return ("anon", AnonPages << 12);
        yield return ("kernel", KmemPages << 12);
        yield return ("kernel_stack", KernelStackPages << 12);
        yield return ("pagetables", PageTablePages << 12);
    }

    /// <summary>A memory.stat value by name, in bytes.</summary>
    public IReadOnlyDictionary<string, long> Stat => StatLines().ToDictionary(l => l.Name, l => l.Bytes);
}
