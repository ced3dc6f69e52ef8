// Report: PKS-protected page tables fracture the direct map; grouping them limits it.
// (x86/mm/cpa: Add grouped page allocations, RFC 3/9 of PKS page tables, May 2021.)
// With protectPageTables each page-table page carries the page-table protection key in
// its direct-map entry. A process maps 2000 separate 2M regions and touches one page in
// each: 2000 PTE tables (plus their PMD tables). On a machine with free order-9 blocks the
// buddy allocator hands tables out in ascending order either way; the grouped cache takes
// whole 2M blocks and keys each block at once, so its 2M direct-map entries stay large.
// The process exits at the end (its 2000-region page-table dump would swamp the snapshot);
// the direct map keeps what happened.
Boot(memory: 8.GiB(), cpus: 2, pti: false, protectPageTables: true);

var p = Spawn("tables");
ulong region = 0x100000000000;
p.Mmap(4000.MiB(), at: region);
for (int i = 0; i < 2000; i++)
    p.Touch(region + (ulong)i * (ulong)2.MiB(), 4.KiB(), Access.Write);

Record("VmPTE kB", p.Status["VmPTE"]);
Record("DirectMap4k", Kernel.Meminfo["DirectMap4k"]);
Record("DirectMap2M", Kernel.Meminfo["DirectMap2M"]);
Record("direct_map_level2_splits", Kernel.Events["direct_map_level2_splits"]);
Record("direct_map_level3_splits", Kernel.Events["direct_map_level3_splits"]);
p.Exit();
