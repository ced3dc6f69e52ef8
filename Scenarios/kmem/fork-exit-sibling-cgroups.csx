// Report: fork/exit churn in two sibling cgroups leaks kmem in each.
// Each cgroup runs a parent that forks 200 children; every child touches 4 MiB and exits.
// Kernel stacks (alloc_kmem_pages / free_kmem_pages, or free_pages with 1/5) uncharge;
// batch-freed page tables do not, in either cgroup, and each group's leak is its own.
Boot(memory: 4.GiB(), cpus: 2);

foreach (var name in new[] { "left", "right" })
{
    var cg = Kernel.Memcg.Create(name);
    var parent = Spawn($"{name}-parent", cg);
    var heap = parent.Mmap(8.MiB());
    parent.Touch(heap, 8.MiB(), Access.Write);
    int n = name == "left" ? 200 : 100;
    for (int i = 0; i < n; i++)
    {
        var c = parent.Fork($"{name}-{i}");
        var buf = c.Mmap(4.MiB());
        c.Touch(buf, 4.MiB(), Access.Write);
        c.Exit();
    }
    Record($"{name}: children", n);
    Record($"{name}: kmem bytes", cg.KmemUsage);
    Record($"{name}: kernel_stack bytes", cg.Stat["kernel_stack"]);
    Record($"{name}: pagetables bytes", cg.Stat["pagetables"]);
}
