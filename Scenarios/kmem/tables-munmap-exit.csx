// Report: page tables freed in batches keep their kmem charge.
// (mm: uncharge kmem pages from generic free_page path, 1/5, Sep 2015.)
// A process in a memory cgroup faults in 256 MiB (about 130 page tables), unmaps it and
// exits. Its page tables are charged to the cgroup's kmem when allocated and freed through
// mmu_gather and release_pages, whose uncharge_list clears page->mem_cgroup as for any page.
// Only free_kmem_pages uncharged kmem; 1/5 moves that to free_pages_prepare, which then
// finds no memcg on these pages: the charge stays with the patch alone (3/5 of the series
// teaches uncharge_list about kmem pages). The invariant check names the leaked pages.
Boot(memory: 4.GiB(), cpus: 2);

var cg = Kernel.Memcg.Create("job");
Record("baseline kmem bytes", cg.KmemUsage);
var p = Spawn("job", cg);
var buf = p.Mmap(256.MiB());
p.Touch(buf, 256.MiB(), Access.Write);
Record("faulted: kmem bytes", cg.KmemUsage);
Record("faulted: pagetables bytes", cg.Stat["pagetables"]);
Checkpoint("faulted in");

p.Munmap(buf, 256.MiB());
Record("unmapped: kmem bytes", cg.KmemUsage);
Record("unmapped: pagetables bytes", cg.Stat["pagetables"]);
Checkpoint("unmapped");

p.Exit();
Record("exited: kmem bytes", cg.KmemUsage);
Record("exited: pagetables bytes", cg.Stat["pagetables"]);
Record("exited: kernel_stack bytes", cg.Stat["kernel_stack"]);
