// Oracle: mprotect of a range inside a VMA splits it in three; giving the range its old
// protection back merges the three again (vma_merge in mprotect_fixup).
var p = Spawn("protector");
var a = p.Mmap(8.MiB());
p.Touch(a, 8.MiB(), Access.Write);
p.Mprotect(a + (ulong)2.MiB(), 2.MiB(), Prot.Read);
Checkpoint("middle read-only");
p.Touch(a, 8.MiB(), Access.Read);
p.Mprotect(a + (ulong)2.MiB(), 2.MiB(), Prot.Read | Prot.Write);
Checkpoint("merged again");
p.Mprotect(a, 8.MiB(), Prot.None);
Checkpoint("prot none");
