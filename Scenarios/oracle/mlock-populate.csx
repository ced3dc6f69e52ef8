// Oracle: mlock faults a range in and counts it in VmLck; munlock clears VM_LOCKED (the pages
// stay); MAP_LOCKED maps locked and populated; mlock of a range with a hole fails -ENOMEM
// after locking what lies before the hole (apply_vma_lock_flags, mm/mlock.c).
//
//   [llll|....]   mlock of the first half        [LLLL|....]
//   [xxxx]        MAP_LOCKED                      [XXXX]
//   [LLLL]  hole  [....]  mlock across the hole   -ENOMEM
var p = Spawn("locker");
var a = p.Mmap(8.MiB(), at: 0x7fc000000000);
p.Mlock(a, 4.MiB());
Checkpoint("half locked");
p.Munlock(a, 2.MiB());
Checkpoint("quarter unlocked");
var b = p.Mmap(2.MiB(), at: 0x7fc001000000, flags: MapFlags.Locked);
Checkpoint("map locked");
var c = p.Mmap(2.MiB(), at: 0x7fc002000000);
var d = p.Mmap(2.MiB(), at: 0x7fc002400000);
try { p.Mlock(c, 6.MiB()); } catch (KernelMm.Model.KernelErrnoException e) { Record("mlock across a hole", e.Errno.ToString()); }
Checkpoint("across a hole");
