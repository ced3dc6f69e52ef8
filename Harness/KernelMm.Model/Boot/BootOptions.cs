namespace KernelMm.Model.Boot;

/// <summary>The machine and the kernel command line the model boots with.</summary>
/// <param name="MemoryBytes">RAM, from physical address 0; a whole number of 4 MiB blocks.</param>
/// <param name="Cpus">CPUs, each with its own TLB.</param>
/// <param name="GbPages">direct_gbpages: map the direct map with 1G pages (the <c>nogbpages</c> option turns it off).</param>
/// <param name="Pti">Page-table isolation (KAISER in 4.9-stable); used by the user-space part of the model.</param>
/// <param name="ProtectPageTables">The PKS page tables of the grouped-pages series: table pages get a protected direct-map attribute.</param>
public sealed record BootOptions(
    long MemoryBytes = 4L << 30,
    int Cpus = 2,
    bool GbPages = true,
    bool Pti = true,
    bool ProtectPageTables = false)
{
    public long NrPages => MemoryBytes >> 12;

    /// <summary>Throws what a bad configuration gets: the machine cannot be built.</summary>
    public void Validate()
    {
        if (MemoryBytes < 64L << 20)
            throw new ArgumentOutOfRangeException(nameof(MemoryBytes), "the model needs at least 64 MiB of RAM");
        if (MemoryBytes % (4L << 20) != 0)
            throw new ArgumentOutOfRangeException(nameof(MemoryBytes), "RAM must be a whole number of 4 MiB (max-order) blocks");
        if (MemoryBytes > 8L << 40)
            throw new ArgumentOutOfRangeException(nameof(MemoryBytes), "the model carries up to 8 TiB of RAM");
        if (Cpus < 1 || Cpus > 256)
            throw new ArgumentOutOfRangeException(nameof(Cpus), "1 to 256 CPUs");
    }
}
