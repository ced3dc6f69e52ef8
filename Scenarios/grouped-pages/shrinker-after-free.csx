// Report: under memory pressure the grouped cache gives back nothing.
// Page tables of a 1000-region process are freed by munmap: with grouped pages they go
// back to the cache, still keyed. Reclaim then runs the cache's shrinker, as drop_slab
// does (priority 0). As posted, init_grouped_page_cache never stores its gfp, so
// grouped_shrink_scan's `sc->gfp_mask & gpc->gfp` is 0: SHRINK_STOP at the first batch,
// the cache keeps every page and MemFree does not move. (Its dispose loop, which frees
// list_entry(head) instead of each isolated page, is never reached.) The direct-map 2M
// entries of the cache's blocks stay keyed, so restore-large-pages has nothing to collapse there.
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
