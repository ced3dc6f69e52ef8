// Oracle: a read fault maps the shared zero page; a later write to it copies a fresh page
// (do_wp_page), so zero-page pages turn into anonymous ones without new page tables.
var p = Spawn("reader");
var a = p.Mmap(16.MiB());
p.Touch(a, 16.MiB(), Access.Read);
Checkpoint("read");
p.Touch(a, 8.MiB(), Access.Write, stride: 16.KiB());
Checkpoint("some written");
