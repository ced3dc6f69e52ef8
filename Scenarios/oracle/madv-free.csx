// Oracle: MADV_FREE on written anonymous pages leaves them mapped and counted in RSS
// until reclaim needs them; writing them again keeps them (Go's "RSS does not drop").
var p = Spawn("gopher");
var a = p.Mmap(32.MiB());
p.Touch(a, 32.MiB(), Access.Write);
p.Madvise(a, 32.MiB(), Advice.Free);
Checkpoint("lazily freed");
p.Touch(a, 8.MiB(), Access.Write);
Checkpoint("partly reused");
