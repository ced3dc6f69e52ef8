// Found by kmm fuzz (a false finding of the model's own TLB check): fork with PKS page
// tables. dup_mmap write-protects the parent's entries and flushes the parent's TLB only at
// its end (flush_tlb_mm under mmap_lock, mm/fork.c); the child's new PTE table is a PKS
// table whose direct-map alias is protected in between, and cpa_flush's TLB check then
// judged the parent's user translation on CPU 1 stale. A kernel flush point now checks the
// kernel half; an mm's flush point its own user half; everything is checked between calls.
Boot(memory: 256.MiB(), cpus: 3, gbpages: false, pti: false, protectPageTables: true);
var p1 = Spawn("p1");
p1.Mmap(0x393000, Prot.Read | Prot.Write, at: 0x7f7fffc00000);
p1.Touch(0x7f7fffc74000, 0x2000, Access.Write, stride: 0x2000);
var p2 = p1.Fork("p2");
