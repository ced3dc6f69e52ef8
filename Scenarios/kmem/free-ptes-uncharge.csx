// Report: PTE tables freed through free_ptes must uncharge kmem.
// (kmem-uncharge-free with pte-refcount.) A VM's ballooned memory is read back (zero-page
// PTE tables), then the tables are freed with a write of the pid to vm.free_ptes. That
// frees each table with __free_page, the generic path: without 1/5 nothing uncharges it
// and free_pages_check reports "page still charged to cgroup" (the pages are leaked);
// with 1/5 free_pages_prepare uncharges and clears PageKmem first. Without pte-refcount
// there is no vm.free_ptes and nothing is freed.
Boot(memory: 4.GiB(), cpus: 2);

var cg = Kernel.Memcg.Create("vm");
var qemu = Spawn("qemu", cg);
var guest = qemu.Mmap(64.MiB(), at: 0x7f0000000000);
qemu.Touch(guest, 64.MiB(), Access.Read);
Record("read back: VmPTE kB", qemu.Status["VmPTE"]);
Record("read back: pagetables bytes", cg.Stat["pagetables"]);
Record("vm.free_ptes written", Kernel.Sysctl.Write("vm.free_ptes", qemu.Pid));
Record("after free_ptes: VmPTE kB", qemu.Status["VmPTE"]);
Record("after free_ptes: pagetables bytes", cg.Stat["pagetables"]);
Record("after free_ptes: kmem bytes", cg.KmemUsage);
