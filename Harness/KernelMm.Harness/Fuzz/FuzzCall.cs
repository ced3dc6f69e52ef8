namespace KernelMm.Harness.Fuzz;

/// <summary>The scenario-API calls a random workload is made of (one per <see cref="FuzzStep"/>).</summary>
public enum FuzzCall
{
    Spawn,
    Fork,
    Exit,
    Mmap,
    Munmap,
    Mprotect,
    MadviseDontNeed,
    MadviseFree,
    TouchRead,
    TouchWrite,
    ModifyLdt,
    SetMemory,
    Vmalloc,
    Vfree,
    LoadModule,
    UnloadModule,
    MemcgCreate,
    MemcgAttach,
    MemcgMoveCharge,
    MemcgRmdir,
    Reclaim,
    FreePtes,
    AllocPages,
    FreePages,
    Reboot,
}
