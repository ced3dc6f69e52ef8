// Oracle: anonymous mappings placed next to each other merge into one VMA; one placed
// into the gap between two fills it and the three become one (vma_merge).
var p = Spawn("merger");
ulong at = 0x7fd000000000;
p.Mmap(2.MiB(), at: at);
p.Mmap(2.MiB(), at: at + (ulong)2.MiB());
Checkpoint("adjacent");
p.Mmap(2.MiB(), at: at + (ulong)6.MiB());
Checkpoint("gap");
p.Mmap(2.MiB(), at: at + (ulong)4.MiB());
Checkpoint("gap filled");
p.Mmap(1.MiB(), Prot.Read, at: at + (ulong)8.MiB());
Checkpoint("different protection");
