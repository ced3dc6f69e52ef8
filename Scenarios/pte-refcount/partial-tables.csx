// Report: free_ptes must never free a table that still maps a real page.
// Three 2M regions: one read back (all zero page), one written then purged (empty), one
// read back with a single page written (511 zero-page entries and one real page). Only the
// first two qualify; the third stays, with its page, and the process still reads it.
Boot(memory: 4.GiB(), cpus: 2);

var p = Spawn("app");
ulong r = p.Mmap(6.MiB(), at: 0x600000000000);
p.Touch(r, 2.MiB(), Access.Read);
p.Touch(r + (ulong)2.MiB(), 2.MiB(), Access.Write);
p.Madvise(r + (ulong)2.MiB(), 2.MiB(), Advice.DontNeed);
p.Touch(r + (ulong)4.MiB(), 2.MiB(), Access.Read);
p.Touch(r + (ulong)4.MiB(), 4.KiB(), Access.Write);
Checkpoint("three tables");
Record("vm.free_ptes written", Kernel.Sysctl.Write("vm.free_ptes", p.Pid));
p.Touch(r, 6.MiB(), Access.Read);
Record("VmRSS kB after reading everything again", p.Status["VmRSS"]);
