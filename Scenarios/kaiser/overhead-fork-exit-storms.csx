// Report: KAISER never frees a shadow page table, so nr_overhead only ratchets up.
// (kaiser: vmstat show NR_KAISERTABLE as nr_overhead; 4.9-stable, Jan 2018.)
// Two storms of 2000 concurrent forks that all exit: every child's kernel-stack top page is
// user-mapped in the shadow tables at fork and unmapped at exit. New shadow PTE tables are
// needed only where stack tops land in a 2M region no stack used before, so the count rises
// in the first storm, stays flat through the exits and through the second storm (its
// stacks reuse the same frames), and never drops; nr_page_table_pages returns to where it was.
Boot(memory: 4.GiB(), cpus: 2);

var init = Spawn("init");
Record("baseline nr_page_table_pages", Kernel.Vmstat["nr_page_table_pages"]);
if (Patches.IsApplied("kaiser-nr-overhead"))
    Record("boot nr_overhead", Kernel.Vmstat["nr_overhead"]);

for (int storm = 1; storm <= 2; storm++)
{
    var children = new List<ScriptProcess>();
    for (int i = 0; i < 2000; i++)
        children.Add(init.Fork($"child{storm}-{i}"));
    if (Patches.IsApplied("kaiser-nr-overhead"))
        Record($"storm {storm}: nr_overhead with 2000 children", Kernel.Vmstat["nr_overhead"]);
    foreach (var c in children)
        c.Exit();
    if (Patches.IsApplied("kaiser-nr-overhead"))
        Record($"storm {storm}: nr_overhead after the exits", Kernel.Vmstat["nr_overhead"]);
    Record($"storm {storm}: nr_page_table_pages after the exits", Kernel.Vmstat["nr_page_table_pages"]);
    Checkpoint($"after storm {storm}");
}
