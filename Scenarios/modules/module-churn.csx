// Report: loading and unloading modules fractures the direct map for good.
// Each module's text is made read-only and executable; set_memory_ro reaches the text
// pages' direct-map aliases and splits the 1G/2M leaves that cover them. Unloading resets
// the aliases' permissions but never merges the split tables back, so after ~50 modules
// of varied sizes have come and gone, DirectMap4k/2M stay fractured (until a patch that
// restores large pages lands).
// Each unload is one TLB flush: vm_remove_mappings flushes the module area and its pages'
// direct-map aliases together, a range from the direct map to module space, far above
// tlb_single_page_flush_ceiling (33 pages): flush_tlb_all, and no single-page flushes.
Boot(memory: 4.GiB(), cpus: 2);

void RecordDirectMap(string when)
{
    Record($"{when}: DirectMap4k", Kernel.Meminfo["DirectMap4k"]);
    Record($"{when}: DirectMap2M", Kernel.Meminfo["DirectMap2M"]);
    Record($"{when}: DirectMap1G", Kernel.Meminfo["DirectMap1G"]);
}

RecordDirectMap("boot");

// Sizes as real modules have them: a few pages to a few hundred KiB of text, less data.
var loaded = new List<ScriptModule>();
for (int i = 0; i < 50; i++)
{
    long text = Random.Long(2, 96) * 4.KiB() + Random.Long(0, 4095);
    long data = Random.Long(1, 32) * 4.KiB();
    loaded.Add(Kernel.LoadModule(text, data));
    // Unload some as we go, so that later modules reuse freed frames in other places.
    if (loaded.Count > 8 && Random.Bool(0.4f))
    {
        int victim = Random.Int(0, loaded.Count - 1);
        loaded[victim].Unload();
        loaded.RemoveAt(victim);
    }
}
RecordDirectMap("all loaded");
Record("modules loaded", loaded.Count);
Checkpoint("modules loaded");

long fullFlushes = Kernel.Model.Tlbs.FullFlushes, pageFlushes = Kernel.Model.Tlbs.PageFlushes;
foreach (var m in loaded)
    m.Unload();
Record("unloads: flush_tlb_all", Kernel.Model.Tlbs.FullFlushes - fullFlushes);
Record("unloads: single-page flushes", Kernel.Model.Tlbs.PageFlushes - pageFlushes);
RecordDirectMap("all unloaded");
Record("direct_map_level2_splits", Kernel.Events["direct_map_level2_splits"]);
Record("direct_map_level3_splits", Kernel.Events["direct_map_level3_splits"]);
