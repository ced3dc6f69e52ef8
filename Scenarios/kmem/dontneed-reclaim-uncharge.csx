// Report: PTE tables freed by MADV_DONTNEED keep their kmem charge.
// (pte-refcount and kmem-uncharge-free as posted; pt-reclaim and kmemcg-page-alloc as
// merged.) A VM's guest memory is written, then discarded with MADV_DONTNEED, then its pid
// is written to vm.free_ptes. Posted: DONTNEED keeps the tables; free_ptes frees them with
// __free_page, which only 1/5 uncharges (without it, "page still charged to cgroup").
// Upstream: pt-reclaim frees each table during the madvise call through the mmu_gather,
// that is release_pages' uncharge_list, which forgets the kmem charge unless uncharge_list
// knows kmem pages (kmemcg-page-alloc, v4.7); there is no vm.free_ptes.
Boot(memory: 4.GiB(), cpus: 2);

var cg = Kernel.Memcg.Create("vm");
var qemu = Spawn("qemu", cg);
var guest = qemu.Mmap(64.MiB(), at: 0x7f0000000000);
qemu.Touch(guest, 64.MiB(), Access.Write);
Record("written: VmPTE kB", qemu.Status["VmPTE"]);
Record("written: pagetables bytes", cg.Stat["pagetables"]);
qemu.Madvise(guest, 64.MiB(), Advice.DontNeed);
Record("discarded: VmPTE kB", qemu.Status["VmPTE"]);
Record("discarded: pagetables bytes", cg.Stat["pagetables"]);
Record("discarded: kmem bytes", cg.KmemUsage);
Checkpoint("discarded");
Record("vm.free_ptes written", Kernel.Sysctl.Write("vm.free_ptes", qemu.Pid));
Record("after free_ptes: VmPTE kB", qemu.Status["VmPTE"]);
Record("after free_ptes: pagetables bytes", cg.Stat["pagetables"]);
Record("after free_ptes: kmem bytes", cg.KmemUsage);
