// Report: with KAISER off at boot (pti off; "nopti"), nr_overhead prints 0.
// The counter line exists whenever the patch is applied; no shadow table is ever made.
Boot(memory: 4.GiB(), cpus: 2, pti: false);

var p = Spawn("app");
var buf = p.Mmap(16.MiB());
p.Touch(buf, 16.MiB(), Access.Write);
var child = p.Fork("child");
child.ModifyLdt(8192);
child.Exit();
