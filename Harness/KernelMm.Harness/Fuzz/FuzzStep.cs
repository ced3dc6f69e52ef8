namespace KernelMm.Harness.Fuzz;

/// <summary>
/// One call of a random workload. <see cref="Target"/> picks a handle the workload made
/// earlier (a process, a cgroup, a vmalloc area, a module, a page block) by its index
/// modulo how many there are, so every subsequence of a workload is itself a workload
/// (what shrinking needs). A..D are the call's numbers (see <see cref="FuzzExecutor"/>):
/// for address ranges A is the first page in the arena, B the length in pages, C the
/// protection or the stride, D flags (bit 0 MAP_FIXED, bit 1 an unaligned start, bit 2 an
/// unaligned length, bit 3 beyond the user address space). A move between memory cgroups
/// (<see cref="FuzzCall.MemcgAttach"/>) takes two handles: Target the process, A the cgroup.
/// </summary>
public readonly record struct FuzzStep(FuzzCall Call, int Target = 0, int A = 0, int B = 0, int C = 0, int D = 0)
{
    public override string ToString() => $"{Call}({Target}, {A}, {B}, {C}, {D})";
}
