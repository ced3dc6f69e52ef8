// Report: under memory pressure the grouped cache gives back nothing, and leaks.
// Page tables of a 1000-region process are freed by munmap: with grouped pages they go
// back to the cache, still keyed. Reclaim then runs the cache's shrinker. As posted, its
// dispose loop frees list_entry(head) - the on-stack list head - instead of each isolated
// page, so the isolated pages are neither freed nor reset: the frame checks report them,
// and MemFree does not move. The direct-map 2M entries of their blocks stay keyed, so
// restore-large-pages has nothing to collapse there.
Boot(memory: 4.GiB(), cpus: 2, pti: false, protectPageTables: true);

var p = Spawn("tables");
ulong region = 0x100000000000;
p.Mmap(2000.MiB(), at: region);
for (int i = 0; i < 1000; i++)
    p.Touch(region + (ulong)i * (ulong)2.MiB(), 4.KiB(), Access.Write);
p.Munmap(region, 2000.MiB());
Record("MemFree kB after munmap", Kernel.Meminfo["MemFree"]);
Checkpoint("tables freed");

Record("pages the shrinkers gave back", Kernel.Reclaim());
Record("MemFree kB after reclaim", Kernel.Meminfo["MemFree"]);
