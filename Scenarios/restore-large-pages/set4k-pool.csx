// Report: a set_memory_4k pool must stay 4K while its neighbours churn.
// A KFENCE-like pool: a 2M-aligned 2M range forced to 4K with set_memory_4k. Its 2M
// neighbour has pages cycled read-only and back 20 times. With the RFC the neighbour
// collapses back to 2M each time, but the pool never does: set_memory_4k sets
// _PAGE_KERNEL_4K (software bit 11), which the dump does not print, so the pool's pte line
// and the neighbour's lines can look alike yet never merge.
Boot(memory: 4.GiB(), cpus: 2);

ulong pool = Kernel.DirectMapAddress(0x80000);          // 2G, 2M-aligned
ulong neighbour = pool + (ulong)2.MiB();
Kernel.SetMemory.FourK(pool, 512);
for (int i = 0; i < 20; i++)
{
    ulong at = neighbour + (ulong)Random.Long(0, 511) * 4096;
    Kernel.SetMemory.ReadOnly(at, 1);
    Kernel.SetMemory.ReadWrite(at, 1);
}
