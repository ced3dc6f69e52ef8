// Report: module load/unload churn leaves the direct map in 4K pages for good.
// (x86/mm/pat: Restore large pages after fragmentation, RFC, Apr 2020.)
// Loading a module makes its text read-only, and set_memory_ro reaches the direct-map
// alias of each text page, splitting the 1G and 2M leaves around it. 50 modules come and
// go; the 4K pte lines stay in the Low Kernel Mapping after everything is unloaded.
// The RFC does not change that here: its cpa_flush hook scans the 1G regions around the
// request's own addresses (module space), never the direct-map aliases that alias
// processing changed, and unloading resets the aliases with set_direct_map_*_noflush,
// which do not go through cpa_flush at all. (undo-restores-large-pages shows the
// collapse when the direct map itself is changed.)
Boot(memory: 4.GiB(), cpus: 2, pti: false);

var loaded = new List<ScriptModule>();
for (int i = 0; i < 50; i++)
{
    loaded.Add(Kernel.LoadModule(Random.Long(4, 64) * 4.KiB(), Random.Long(1, 8) * 4.KiB()));
    if (loaded.Count > 6 && Random.Bool(0.5f))
    {
        int victim = Random.Int(0, loaded.Count - 1);
        loaded[victim].Unload();
        loaded.RemoveAt(victim);
    }
}
Checkpoint("modules loaded");
foreach (var m in loaded)
    m.Unload();
Record("direct_map_level2_splits", Kernel.Events["direct_map_level2_splits"]);
Record("direct_map_level3_splits", Kernel.Events["direct_map_level3_splits"]);
