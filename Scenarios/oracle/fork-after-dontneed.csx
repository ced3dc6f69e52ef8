// Oracle: fork after MADV_DONTNEED emptied a range: copy_pmd_range gives the child a PMD
// table for every non-none PUD entry and copy_pte_range a PTE table for every non-none
// PMD entry before it looks at a single pte, so the child pays for the parent's empty
// tables, unless the kernel already freed them at MADV_DONTNEED (pt-reclaim).
var parent = Spawn("parent");
var a = parent.Mmap(8.MiB());
parent.Touch(a, 8.MiB(), Access.Write);
parent.Madvise(a, 8.MiB(), Advice.DontNeed);
var child = parent.Fork("child");
Checkpoint("forked");
var b = parent.Mmap(1.MiB());
parent.Touch(b, 4.KiB(), Access.Write);
parent.Munmap(b, 1.MiB());
var second = parent.Fork("second");
