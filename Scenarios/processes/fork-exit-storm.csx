// Report: a pre-forking server's fork/exit storm; what comes back after the workers exit.
// A server with a written heap forks waves of short-lived workers in its memory cgroup;
// each worker dirties part of the shared heap (copy-on-write breaks), maps and writes a
// private buffer, and exits. Once the storm is over, every worker's page tables, stack
// and pages must be back in the buddy allocator and uncharged from the cgroup: compare
// nr_page_table_pages, nr_kernel_stack, MemFree and the cgroup's kmem usage with the
// values before the first fork.
Boot(memory: 4.GiB(), cpus: 2);

var cg = Kernel.Memcg.Create("server");
var server = Spawn("server", cg);
var heap = server.Mmap(32.MiB());
server.Touch(heap, 32.MiB(), Access.Write);

void Counters(string when)
{
    Record($"{when}: nr_page_table_pages", Kernel.Vmstat["nr_page_table_pages"]);
    Record($"{when}: nr_kernel_stack", Kernel.Vmstat["nr_kernel_stack"]);
    Record($"{when}: MemFree kB", Kernel.Meminfo["MemFree"]);
    Record($"{when}: memcg kmem bytes", cg.KmemUsage);
}

Counters("before the storm");
Checkpoint("server ready");

int forked = 0;
for (int wave = 0; wave < 6; wave++)
{
    var workers = new List<ScriptProcess>();
    int n = Random.Int(4, 12);
    for (int i = 0; i < n; i++)
    {
        var w = server.Fork($"worker-{wave}-{i}");
        forked++;
        long dirty = Random.Long(1, 64) * 64.KiB();
        w.Touch(heap + (ulong)Random.Long(0, 32.MiB() - dirty) / 4096 * 4096, dirty, Access.Write);
        var buf = w.Mmap(Random.Long(1, 16) * 1.MiB());
        w.Touch(buf, 1.MiB(), Access.Write);
        workers.Add(w);
    }
    if (wave == 2)
    {
        Counters("mid-storm");
        Checkpoint("mid-storm, workers alive");
    }
    foreach (var w in workers)
        w.Exit();
}

Record("workers forked", forked);
Counters("after the storm");
