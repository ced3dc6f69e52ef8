// Report: jemalloc-style purging leaves 128 MiB of empty PTE tables behind (VmPTE 110g in production).
// (mm: introduce pte_refcount for user PTE page table page, RFC 4/7, Aug 2022.)
// A 64 GiB arena gets one page touched per 2M (32768 PTE tables), then MADV_DONTNEED on
// all of it: the pages go, the tables stay. With the RFC, writing the pid to
// vm.free_ptes frees every empty table: VmPTE and nr_page_table_pages drop by 32768 pages
// (and the PMD tables stay). Without it the sysctl does not exist.
Boot(memory: 72.GiB(), cpus: 2);

var p = Spawn("jemalloc");
ulong arena = p.Mmap(64.GiB(), at: 0x100000000000);
p.Touch(arena, 64.GiB(), Access.Write, stride: 2.MiB());
Record("touched: VmPTE kB", p.Status["VmPTE"]);
Record("touched: VmRSS kB", p.Status["VmRSS"]);
p.Madvise(arena, 64.GiB(), Advice.DontNeed);
Record("purged: VmPTE kB", p.Status["VmPTE"]);
Record("purged: nr_page_table_pages", Kernel.Vmstat["nr_page_table_pages"]);
Checkpoint("purged");
Record("vm.free_ptes written", Kernel.Sysctl.Write("vm.free_ptes", p.Pid));
Record("after free_ptes: VmPTE kB", p.Status["VmPTE"]);
Record("after free_ptes: nr_page_table_pages", Kernel.Vmstat["nr_page_table_pages"]);
