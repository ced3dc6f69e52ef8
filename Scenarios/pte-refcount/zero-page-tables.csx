// Report: a VM's ballooned memory read back fills PTE tables with the zero page.
// Reading 2 GiB of never-written anonymous memory (migration or kdump reading all guest
// memory) maps the shared zero page everywhere: RSS does not move, VmPTE grows by 4 MiB
// (1024 tables, every entry the zero page). The RFC's free_ptes frees all-zero-page tables
// too (later upstream code frees only empty ones). 2 GiB stands for the report's sizes to
// keep the suite fast; the ratio is the same.
Boot(memory: 4.GiB(), cpus: 2);

var vm = Spawn("qemu");
ulong guest = vm.Mmap(2.GiB(), at: 0x7e0000000000);
vm.Touch(guest, 2.GiB(), Access.Read);
Record("read back: VmRSS kB", vm.Status["VmRSS"]);
Record("read back: VmPTE kB", vm.Status["VmPTE"]);
Checkpoint("read back");
Record("vm.free_ptes written", Kernel.Sysctl.Write("vm.free_ptes", vm.Pid));
Record("after free_ptes: VmPTE kB", vm.Status["VmPTE"]);
