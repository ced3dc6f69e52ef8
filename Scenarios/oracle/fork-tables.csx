// Oracle: what fork copies of page tables. copy_pte_range allocates the child's PTE
// table before looking at any entry, so a range whose table was left empty still costs
// the child a table; a read-only (zero page) range is copied as it is.
var parent = Spawn("parent");
var a = parent.Mmap(8.MiB());
parent.Touch(a, 8.MiB(), Access.Write);
var b = parent.Mmap(4.MiB());
parent.Touch(b, 4.MiB(), Access.Read);
var child = parent.Fork("child");
Checkpoint("forked");
var grandchild = child.Fork("grandchild");
Checkpoint("forked again");
grandchild.Exit();
child.Exit();
