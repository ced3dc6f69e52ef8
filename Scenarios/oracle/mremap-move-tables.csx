// Oracle: mremap grows a mapping in place, then moves it with MREMAP_MAYMOVE | MREMAP_FIXED.
// Both ends 2 MiB-aligned, move_page_tables moves whole PTE tables (move_normal_pmd); the
// second move is off by a page, so the entries move one by one into new tables.
//
//   [aaaa]            grow in place      [aaaaaa]
//   [aaaaaa]  ->  fixed, aligned   ->             [aaaaaa]   (PTE tables move whole)
//             ->  fixed, +4 KiB    ->                [aaaaaa] (entries move, tables new)
var p = Spawn("mover");
var a = p.Mmap(8.MiB(), at: 0x7fc000000000);
p.Touch(a, 8.MiB(), Access.Write);
var g = p.Mremap(a, 8.MiB(), 12.MiB());
p.Touch(g + 8.MiB(), 4.MiB(), Access.Read);
Checkpoint("grown in place");
var m = p.Mremap(g, 12.MiB(), 12.MiB(), MremapFlags.MayMove | MremapFlags.Fixed, newAddr: 0x7fc040000000);
Checkpoint("moved, aligned");
p.Mremap(m, 12.MiB(), 12.MiB(), MremapFlags.MayMove | MremapFlags.Fixed, newAddr: 0x7fc080001000);
Checkpoint("moved, off by a page");
p.Mremap(0x7fc080001000, 12.MiB(), 4.MiB());
Checkpoint("shrunk");
