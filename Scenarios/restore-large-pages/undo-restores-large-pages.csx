// Report: "are the leaf 4K pages leaked?" (Mika Penttila on the RFC). No: only tables.
// One 4K page of the second gigabyte is made read-only (1G -> 2M -> 4K), then writable
// again. With the RFC the 2M and then the 1G leaf come back and the two split tables are
// freed; the frame checks find every leaf page still mapped and every frame accounted
// for. DirectMap4k keeps the 2048 kB the split added: the RFC never updates the counters.
Boot(memory: 4.GiB(), cpus: 2);

ulong page = Kernel.DirectMapAddress(0x40000);
Kernel.SetMemory.ReadOnly(page, 1);
Checkpoint("one page read-only");
Kernel.SetMemory.ReadWrite(page, 1);
Record("DirectMap4k", Kernel.Meminfo["DirectMap4k"]);
Record("DirectMap1G", Kernel.Meminfo["DirectMap1G"]);
