// Oracle: mmap with MAP_FIXED over written memory unmaps what was there (its pages gone,
// its tables kept where the new mapping covers them) and maps fresh zero-fill memory.
var p = Spawn("replacer");
var a = p.Mmap(8.MiB());
p.Touch(a, 8.MiB(), Access.Write);
p.Mmap(4.MiB(), at: a + (ulong)2.MiB());
Checkpoint("replaced");
p.Touch(a, 8.MiB(), Access.Read);
Checkpoint("read back");
