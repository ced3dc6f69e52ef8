// Oracle: free_pgtables' floor and ceiling. Three 512 KiB mappings with a page gap
// between them, in one 2 MiB range, share one PTE table:
//
//   0x7fc000000000                                            +2 MiB
//   |[ a ] [ b ] [ c ]........................................|   one PTE table
//
// unmapping b frees no table (a and c still use it), unmapping a and c frees it, and
// the PMD table with it once nothing else is in its gigabyte.
var p = Spawn("floors");
ulong at = 0x7fc000000000;
var a = p.Mmap(512.KiB(), at: at);
var b = p.Mmap(512.KiB(), at: at + (ulong)516.KiB());
var c = p.Mmap(512.KiB(), at: at + (ulong)1032.KiB());
p.Touch(a, 512.KiB(), Access.Write);
p.Touch(b, 512.KiB(), Access.Write);
p.Touch(c, 512.KiB(), Access.Write);
Checkpoint("three mapped");
p.Munmap(b, 512.KiB());
Checkpoint("middle unmapped");
p.Munmap(a, 512.KiB());
Checkpoint("first unmapped");
p.Munmap(c, 512.KiB());
