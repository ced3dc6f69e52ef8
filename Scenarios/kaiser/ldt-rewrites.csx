// Report: a task that keeps rewriting a large LDT keeps growing nr_overhead.
// write_ldt allocates a new LDT on every write and frees the old one. A 64 KiB LDT comes
// from vzalloc, and vfree only puts its range on the lazy purge list (free_vmap_area_noflush),
// so each new LDT lands above the last (17 pages with the guard page), climbing into fresh
// 2M regions of the vmalloc area. KAISER user-maps each LDT into the shadow tables: every new
// 2M region gets a shadow PTE table, never freed (nr_overhead with kaiser-nr-overhead). Only
// when more than lazy_max_pages are lazily freed (16384 pages with 2 CPUs: the 964th free)
// does __purge_vmap_area_lazy give the ranges back; later LDTs reuse the low regions, whose
// shadow tables exist already, and nr_overhead stays where it got to.
Boot(memory: 4.GiB(), cpus: 2);
SnapshotSections(Section.Counters);

var p = Spawn("wine");
for (int i = 0; i < 480; i++)
    p.ModifyLdt(8192);
Record("vmap_lazy_nr", Kernel.Model.Vmalloc.VmapLazyNr);
Checkpoint("480 rewrites", Section.Counters);

for (int i = 0; i < 480; i++)
    p.ModifyLdt(8192);
Record("vmap_lazy_nr", Kernel.Model.Vmalloc.VmapLazyNr);
Checkpoint("960 rewrites", Section.Counters);

for (int i = 0; i < 480; i++)
    p.ModifyLdt(8192);
Record("vmap_lazy_nr", Kernel.Model.Vmalloc.VmapLazyNr);
Checkpoint("1440 rewrites: purged once", Section.Counters);

p.Exit();
