// Oracle: munmap of a VMA's middle splits it in two; of its head or tail, shrinks it.
//
//   [hhhh|mmmm|tttt]  ->  [hhhh]    [tttt]  ->  [hh]      [tt]
var p = Spawn("splitter");
var a = p.Mmap(12.MiB());
p.Touch(a, 12.MiB(), Access.Write);
p.Munmap(a + (ulong)4.MiB(), 4.MiB());
Checkpoint("middle unmapped");
p.Munmap(a + (ulong)2.MiB(), 2.MiB());
p.Munmap(a + (ulong)8.MiB(), 2.MiB());
Checkpoint("head and tail trimmed");
