namespace KernelMm.Model.Tlb;

/// <summary>What an access does with the memory: the permission it needs.</summary>
public enum AccessKind
{
    Read,
    Write,
    Execute,
}
