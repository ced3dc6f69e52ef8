// Report: on a fragmented machine every protected page table splits its own 2M page.
// Like protected-tables-free-blocks, with 600 tables (more than the 448 pages the grouped
// cache keeps from the block it took at boot), on a 2 GiB machine fragmented first: a
// process is started, then every free page is taken and two pages in each 2M region given
// back. No order-9 block is free, and each table lands in a 2M region of its own (the
// region's other free page becomes the split table), whose 2M leaf its key splits.
// Grouped pages cannot refill by block and fall back to single pages, which split the
// same way; only the tables served from the block the cache took at boot avoid it.
Boot(memory: 2.GiB(), cpus: 2, pti: false, protectPageTables: true);

var p = Spawn("tables");

var held = new List<long>();
try
{
    while (true)
        held.Add(Kernel.AllocPages(0));
}
catch (KernelMm.Model.KernelErrnoException)
{
}
int given = 0;
foreach (var pfn in held)
{
    if (pfn % 512 < 2)
    {
        Kernel.FreePages(pfn, 0);
        given++;
    }
}
Record("free pages left, two per 2M region", given);

ulong region = 0x100000000000;
p.Mmap(1200.MiB(), prot: Prot.Read, at: region); // read-only: no VM_ACCOUNT, no overcommit limit
for (int i = 0; i < 600; i++)
    p.Touch(region + (ulong)i * (ulong)2.MiB(), 4.KiB(), Access.Read);

Record("VmPTE kB", p.Status["VmPTE"]);
Record("DirectMap4k", Kernel.Meminfo["DirectMap4k"]);
Record("direct_map_level2_splits", Kernel.Events["direct_map_level2_splits"]);
Record("direct_map_level3_splits", Kernel.Events["direct_map_level3_splits"]);
p.Exit(); // its 600-region page-table dump would swamp the snapshot
