// Oracle: fork shares every written page copy-on-write; the child's writes copy them
// (minor faults in the child, RSS unchanged), the parent's stay its own.
var parent = Spawn("parent");
var a = parent.Mmap(16.MiB());
parent.Touch(a, 16.MiB(), Access.Write);
var child = parent.Fork("child");
Checkpoint("forked");
child.Touch(a, 4.MiB(), Access.Write);
Checkpoint("child wrote a quarter");
parent.Touch(a + (ulong)8.MiB(), 4.MiB(), Access.Write);
Checkpoint("parent wrote a quarter");
child.Exit();
