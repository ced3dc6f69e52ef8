// Report: a jemalloc-style allocator keeps its page tables after purging.
// jemalloc reserves a large arena with one mmap, faults in extents as it hands them out,
// purges dirty extents with MADV_DONTNEED and later reuses them. DONTNEED zaps the PTEs
// and frees the pages (VmRSS drops) but leaves every PTE table in place, so VmPTE and
// nr_page_table_pages stay at their high-water mark; touching the extents again faults
// into the same tables. Extent sizes and offsets are drawn from the seeded Random, so
// every combination replays the same workload.
Boot(memory: 4.GiB(), cpus: 2);

var p = Spawn("jemalloc");
long arenaSize = 1.GiB();
var arena = p.Mmap(arenaSize);
Record("arena", $"0x{arena:x} + {arenaSize >> 20} MiB");

// jemalloc's size classes for large extents: multiples of the 4 KiB page up to 4 MiB.
long[] classes = [16.KiB(), 64.KiB(), 256.KiB(), 1.MiB(), 2.MiB(), 4.MiB()];
var extents = new List<(ulong Addr, long Len)>();
for (int i = 0; i < 48; i++)
{
    long len = Random.ArrayElement(classes);
    long slot = Random.Long(0, arenaSize / 4.MiB() - 1);
    extents.Add((arena + (ulong)(slot * 4.MiB()), len));
}

void Status(string when)
{
    Record($"{when}: VmRSS kB", p.Status["VmRSS"]);
    Record($"{when}: VmPTE kB", p.Status["VmPTE"]);
    Record($"{when}: nr_page_table_pages", Kernel.Vmstat["nr_page_table_pages"]);
}

foreach (var (addr, len) in extents)
    p.Touch(addr, len, Access.Write);
Status("touched");
Checkpoint("extents in use");

foreach (var (addr, len) in extents)
    p.Madvise(addr, len, Advice.DontNeed);
Status("purged");
Checkpoint("after MADV_DONTNEED");

// Reuse: half the extents are handed out again (read first, as a calloc check would).
foreach (var (addr, len) in extents.Where((_, i) => i % 2 == 0))
{
    p.Touch(addr, len, Access.Read);
    p.Touch(addr, len, Access.Write);
}
Status("reused");
