// Oracle: MADV_DONTNEED of written memory: the pages go at once; whether the emptied PTE
// tables go too is what the host kernel's CONFIG_PT_RECLAIM (6.14) decides: the oracle
// replays this with the upstream series' pt-reclaim where the host has it.
var p = Spawn("purger");
var a = p.Mmap(64.MiB());
p.Touch(a, 64.MiB(), Access.Write);
p.Madvise(a + (ulong)1.MiB(), 62.MiB(), Advice.DontNeed);
Checkpoint("inner purged");
p.Madvise(a, 64.MiB(), Advice.DontNeed);
Checkpoint("all purged");
p.Touch(a, 64.MiB(), Access.Read, stride: 4.MiB());
