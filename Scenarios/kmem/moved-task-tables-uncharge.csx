// Report: page tables charged before a task moved to another memory cgroup are uncharged
// from the cgroup they were charged to, whichever path frees them.
// (cgroup v1, echo PID > cgroup.procs with memory.move_charge_at_immigrate 0; kmem-uncharge-free
// with pte-refcount; upstream: kmemcg-page-alloc.) qemu runs in "build": 8 MiB of guest
// memory read back (zero-page PTE tables) and an 8 MiB heap written. It is then moved to
// "batch" and faults 4 MiB more: only those pages and their tables are charged to batch;
// everything charged before stays with build (page->mem_cgroup). After the move, the heap is
// unmapped (its tables freed through mmu_gather and release_pages) and the guest's tables
// are freed by a write of qemu's pid to vm.free_ptes (__free_page, the generic path): every
// uncharge goes to build, never to batch. Without 1/5, free_pages_check reports the free_ptes
// tables "page still charged to cgroup" with page->mem_cgroup:build; with it they are
// uncharged from build. The heap's tables leak their kmem in build with the posted series
// (uncharge_list clears page->mem_cgroup first), not with upstream's kmemcg-page-alloc. At the
// end qemu exits and build is removed: while its leaked charges pin it, it stays, dying.
Boot(memory: 4.GiB(), cpus: 2);

var build = Kernel.Memcg.Create("build");
var batch = Kernel.Memcg.Create("batch");
var qemu = Spawn("qemu", build);
var guest = qemu.Mmap(8.MiB(), at: 0x7f0000000000);
qemu.Touch(guest, 8.MiB(), Access.Read);
var heap = qemu.Mmap(8.MiB(), at: 0x7f0040000000);
qemu.Touch(heap, 8.MiB(), Access.Write);
Record("build: kmem bytes", build.KmemUsage);
Record("build: pagetables bytes", build.Stat["pagetables"]);
Checkpoint("in build", Section.Processes | Section.Memcg);

Record("pages whose charge moved", batch.Attach(qemu));
Record("qemu's memcg", qemu.Memcg);
var fresh = qemu.Mmap(4.MiB(), at: 0x7f0080000000);
qemu.Touch(fresh, 4.MiB(), Access.Write);
Record("build: kmem bytes", build.KmemUsage);
Record("batch: kmem bytes", batch.KmemUsage);
Record("batch: anon bytes", batch.Stat["anon"]);
Checkpoint("moved to batch, 4 MiB faulted", Section.Processes | Section.Memcg);

qemu.Munmap(heap, 8.MiB());
Record("vm.free_ptes written", Kernel.Sysctl.Write("vm.free_ptes", qemu.Pid));
Record("build: kmem bytes", build.KmemUsage);
Record("build: pagetables bytes", build.Stat["pagetables"]);
Record("batch: kmem bytes", batch.KmemUsage);
Record("batch: pagetables bytes", batch.Stat["pagetables"]);
Checkpoint("freed after the move", Section.Processes | Section.Memcg);

qemu.Exit();
build.Rmdir();
Record("build removed, still online", build.Online);
Record("batch: kmem bytes", batch.KmemUsage);
SnapshotSections(Section.Memcg | Section.Processes);
