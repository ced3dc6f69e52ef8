// Report: the production case of the pte-refcount cover letter (Qi Zheng, Jul 2021): a
// process with VIRT 55t, RES 590g and VmPTE 110g, of which about 1.2g is needed.
// (mm: introduce pte_refcount for user PTE page table page, RFC 4/7, Aug 2022.)
// A benchmark at full size, run by `kmm bench` (outside Scenarios/: never in the suite).
// A 1 TiB machine; 55 TiB of anonymous arenas (110 mappings of 512 GiB, merged into one
// VMA); one page written every 384 KiB, so every 2 MiB has a PTE table (28.8M tables,
// VmPTE 110 GiB) and 587 GiB is resident; then MADV_DONTNEED on all of it (the pages go,
// the tables stay) and the free_ptes write (the empty tables go).
Boot(memory: 1.TiB(), cpus: 2);

const ulong Base = 0x100000000000;   // 16 TiB
const int Arenas = 110;
long arena = 512.GiB();
long total = Arenas * arena;

var p = Spawn("production");
for (int i = 0; i < Arenas; i++)
    p.Mmap(arena, at: Base + (ulong)(i * arena));
p.Touch(Base, total, Access.Write, stride: 384.KiB());
Record("touched: VmSize kB", p.Status["VmSize"]);
Record("touched: VmRSS kB", p.Status["VmRSS"]);
Record("touched: VmPTE kB", p.Status["VmPTE"]);
p.Madvise(Base, total, Advice.DontNeed);
Record("purged: VmRSS kB", p.Status["VmRSS"]);
Record("purged: VmPTE kB", p.Status["VmPTE"]);
Record("vm.free_ptes written", Kernel.Sysctl.Write("vm.free_ptes", p.Pid));
Record("after free_ptes: VmPTE kB", p.Status["VmPTE"]);
