// Report: a jemalloc-style sparse heap of 64 GiB on a 4 GiB machine.
// jemalloc reserves its heap with MAP_NORESERVE when the system overcommits, so the
// reservation costs no commit charge; an ordinary private writable mapping of that size is
// refused by the default heuristic (OVERCOMMIT_GUESS: one request larger than RAM plus swap),
// allowed with vm.overcommit_memory=1, and under 2 (never) MAP_NORESERVE is ignored and the
// commit limit (overcommit_ratio of RAM) refuses it. Committed_AS shows what each charged.
Boot(memory: 4.GiB(), cpus: 2);

var p = Spawn("jemalloc");

string TryMmap(long length, MapFlags flags = MapFlags.None)
{
    try
    {
        var a = p.Mmap(length, flags: flags);
        return $"mapped at 0x{a:x}";
    }
    catch (KernelMm.Model.KernelErrnoException e)
    {
        return e.Errno.ToString();
    }
}

Record("guess: 64 GiB", TryMmap(64.GiB()));
Record("guess: 64 GiB NORESERVE", TryMmap(64.GiB(), MapFlags.NoReserve));
Record("Committed_AS kB", Kernel.Meminfo["Committed_AS"]);
Checkpoint("overcommit_memory=0");

Kernel.Sysctl.Write("vm.overcommit_memory", 1);
Record("always: 64 GiB", TryMmap(64.GiB()));
Record("Committed_AS kB", Kernel.Meminfo["Committed_AS"]);
Checkpoint("overcommit_memory=1");

Kernel.Sysctl.Write("vm.overcommit_memory", 2);
Kernel.Sysctl.Write("vm.overcommit_ratio", 80);
Record("never: 1 GiB NORESERVE", TryMmap(1.GiB(), MapFlags.NoReserve));
Record("CommitLimit kB", Kernel.Meminfo["CommitLimit"]);
Record("Committed_AS kB", Kernel.Meminfo["Committed_AS"]);
Record("overcommit_memory", Kernel.Sysctl.Read("vm.overcommit_memory"));
