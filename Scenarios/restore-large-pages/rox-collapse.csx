// Report: JIT text made read-only-executable in a fragmented 2M stays 4K, and DirectMap lies.
// (x86/mm/pat: Restore large pages after fragmentation, RFC Apr 2020; merged as "restore
// large ROX pages after fragmentation", v6.15.) One page of a 2M-aligned direct-map range
// is made read-only and writable again (1G -> 2M -> 4K), then the whole 2M is made ROX
// with set_memory_rox, as a JIT does with a 2M text region, and finally reset to RW+NX.
// Base: the 4K pte lines stay throughout. RFC: every cpa_flush restores around the
// request, so the 2M and 1G leaves come back at set_memory_rw already, but DirectMap4k
// keeps the 2048 kB and no collapse is counted. Upstream: only set_memory_rox
// (CPA_COLLAPSE) collapses, the 2M only (the rest of its 1G is RW+NX), and DirectMap and
// direct_map_level2_collapses follow; the reset changes the 2M leaf in place and nothing
// brings the 1G back.
Boot(memory: 4.GiB(), cpus: 2);

ulong text = Kernel.DirectMapAddress(0x40200);         // 2M-aligned, in the second gigabyte
void DirectMap(string when)
{
    Record($"{when}: DirectMap4k", Kernel.Meminfo["DirectMap4k"]);
    Record($"{when}: DirectMap2M", Kernel.Meminfo["DirectMap2M"]);
    Record($"{when}: DirectMap1G", Kernel.Meminfo["DirectMap1G"]);
}

Kernel.SetMemory.ReadOnly(text + 5 * 4096UL, 1);
Kernel.SetMemory.ReadWrite(text + 5 * 4096UL, 1);
DirectMap("attributes restored");
Checkpoint("attributes restored");

Kernel.SetMemory.ReadOnlyExec(text, 512);
DirectMap("text ROX");
Checkpoint("text ROX");

Kernel.SetMemory.ReadWrite(text, 512);
Kernel.SetMemory.NoExec(text, 512);
DirectMap("text reset");
