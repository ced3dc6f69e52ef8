// Report: with memory.move_charge_at_immigrate, a task's anonymous memory follows it to its
// new cgroup, but its kernel memory (page tables, pgd, kernel stack) does not.
// (cgroup v1, mem_cgroup_can_attach and mem_cgroup_move_charge, 5.10; upstream deprecated the
// knob in 2023, "mm: memcontrol: deprecate charge moving".) A job in "old" writes 4 MiB, reads 4 MiB (the zero page) and forks a child that
// shares the written pages copy-on-write. "new" gets move_charge_at_immigrate = 1 (MOVE_ANON)
// and the job is moved there: every page it maps that is charged to "old" moves, the pages it
// shares with the child too (no mapcount check since 3.7), the zero page and kmem do not. The
// child, still in "old", then maps pages charged to "new"; when it breaks COW its copy is
// charged to "old". Both exit; the kmem left behind is the base kernel's page-table leak.
Boot(memory: 4.GiB(), cpus: 2);

var oldCg = Kernel.Memcg.Create("old");
var newCg = Kernel.Memcg.Create("new");
var job = Spawn("job", oldCg);
var heap = job.Mmap(4.MiB(), at: 0x7f0000000000);
job.Touch(heap, 4.MiB(), Access.Write);
var zeros = job.Mmap(4.MiB(), at: 0x7f0000400000);
job.Touch(zeros, 4.MiB(), Access.Read);
var child = job.Fork("child");
Checkpoint("before the move", Section.Processes | Section.Memcg);

newCg.MoveChargeAtImmigrate = 1;
Record("move_charge_at_immigrate", newCg.MoveChargeAtImmigrate);
Record("pages whose charge moved", newCg.Attach(job));
Record("job's memcg", job.Memcg);
Record("child's memcg", child.Memcg);
Checkpoint("job moved", Section.Processes | Section.Memcg);

child.Touch(heap, 1.MiB(), Access.Write);
Record("old: anon bytes", oldCg.Stat["anon"]);
Record("new: anon bytes", newCg.Stat["anon"]);
Checkpoint("child broke COW of 1 MiB", Section.Memcg);

child.Exit();
job.Exit();
SnapshotSections(Section.Memcg);
