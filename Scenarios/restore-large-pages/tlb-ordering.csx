// Report: collapsed tables must be freed only after the TLB flush.
// Both CPUs read pages of a fragmented 2M region, so their TLBs hold 4K translations
// walked through its PTE table. Undoing the change collapses the region; the RFC queues
// the table, flushes all TLBs, then frees it. The TLB check at every flush point and at
// every table free reports a translation still walked through a freed table; there is none.
Boot(memory: 4.GiB(), cpus: 2);

ulong region = Kernel.DirectMapAddress(0x40000);
Kernel.SetMemory.ReadOnly(region, 1);
for (int cpu = 0; cpu < 2; cpu++)
    for (int i = 1; i < 8; i++)
        Kernel.Model.Access(cpu, region + (ulong)i * 4096);
Kernel.SetMemory.ReadWrite(region, 1);
Record("CPU 0 TLB entries after the collapse", Kernel.Model.Tlbs.Cpus[0].Count);
