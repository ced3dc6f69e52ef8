// Oracle: one access per 8 KiB, per 2 MiB and per 1 GiB over large mappings: one PTE
// table per 2 MiB touched, one PMD table per 1 GiB, whatever the stride leaves untouched.
var p = Spawn("strider");
var a = p.Mmap(16.MiB());
p.Touch(a, 16.MiB(), Access.Write, stride: 8.KiB());
Checkpoint("every other page");
var b = p.Mmap(64.MiB());
p.Touch(b, 64.MiB(), Access.Write, stride: 2.MiB());
Checkpoint("one page per pmd");
var c = p.Mmap(3.GiB());
p.Touch(c, 3.GiB(), Access.Read, stride: 1.GiB());
