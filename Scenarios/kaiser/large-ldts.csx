// Report: large LDTs leave KAISER shadow tables behind in the vmalloc area.
// An LDT over a page comes from vzalloc and is user-mapped into the shadow tables. 32
// processes each write the last of 8192 LDT entries (64 KiB), then exit: the LDTs are
// freed and their shadow PTEs cleared, but the shadow tables made for them in the vmalloc
// region stay (and are counted in nr_overhead when kaiser-nr-overhead is applied).
Boot(memory: 4.GiB(), cpus: 2);

// The shadow dump's vmalloc region, summed: kB user-mapped, kB of shadow PTE tables' reach.
string ShadowVmalloc()
{
    var kaiser = Kernel.Model.Kaiser;
    if (kaiser is null)
        return "pti off: no shadow tables";
    var lines = kaiser.DumpShadow().Text.Split('\n');
    int from = Array.IndexOf(lines, "---[ vmalloc() Area ]---");
    int to = Array.IndexOf(lines, "---[ Vmemmap ]---");
    long mapped = 0, pteLevel = 0;
    foreach (var line in lines[(from + 1)..to])
    {
        long kb = Size(line.Substring(40, 10).Trim());
        if (line.EndsWith("pte"))
            pteLevel += kb;
        if (line.Contains(" RW "))
            mapped += kb;
    }
    return $"{mapped} kB user-mapped, {pteLevel} kB covered by shadow PTE tables";
}

long Size(string s) => long.Parse(s[..^1]) * (s[^1] switch { 'K' => 1L, 'M' => 1024L, 'G' => 1L << 20, _ => 1L << 30 });

var tasks = new List<ScriptProcess>();
for (int i = 0; i < 32; i++)
{
    var p = Spawn($"wine{i}");
    p.ModifyLdt(8192);
    tasks.Add(p);
}
Record("shadow vmalloc area with 32 LDTs", ShadowVmalloc());
Checkpoint("32 large LDTs");

foreach (var p in tasks)
    p.Exit();
Record("shadow vmalloc area after exit", ShadowVmalloc());
