// Oracle: a 64 MiB anonymous mapping written at every page, then another read at every
// page (zero-page faults), then both unmapped: VmRSS, RssAnon, VmPTE, VMAs and present
// pages as this machine's kernel shows them (kmm oracle).
var p = Spawn("toucher");
var a = p.Mmap(64.MiB());
p.Touch(a, 64.MiB(), Access.Write);
var b = p.Mmap(64.MiB());
p.Touch(b, 64.MiB(), Access.Read);
Checkpoint("touched");
p.Munmap(a, 64.MiB());
Checkpoint("first unmapped");
p.Munmap(b, 64.MiB());
