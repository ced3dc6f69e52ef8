namespace KernelMm.Model.Memory;

/// <summary>enum zone_type of x86-64 (no ZONE_MOVABLE: no movablecore= in the model).</summary>
public enum ZoneType
{
    ZONE_DMA = 0,
    ZONE_DMA32 = 1,
    ZONE_NORMAL = 2,
}
