using System.Text;

namespace KernelMm.Model.Stats;

/// <summary>
/// The /proc/meminfo lines the model maintains, in the kernel's order (fs/proc/meminfo.c,
/// then arch_report_meminfo). Values are kB; a line is the name and colon padded to 16
/// columns, the value right-aligned in 8, then " kB".
/// </summary>
public sealed class Meminfo(Kernel k)
{
    /// <summary>The lines, name without colon and value in kB.</summary>
    public IEnumerable<(string Name, long Kb)> Lines()
    {
        yield return ("MemTotal", k.TotalRamPages << 2);
        yield return ("MemFree", k.VmStat[VmStatItem.NR_FREE_PAGES] << 2);
        yield return ("AnonPages", k.VmStat[VmStatItem.NR_ANON_MAPPED] << 2);
        yield return ("KernelStack", k.VmStat[VmStatItem.NR_KERNEL_STACK_KB]);
        yield return ("PageTables", k.VmStat[VmStatItem.NR_PAGETABLE] << 2);
        yield return ("CommitLimit", k.Overcommit.VmCommitLimit() << 2);
        yield return ("Committed_AS", k.Overcommit.CommittedAs << 2);
        yield return ("VmallocTotal", (long)((KernelLayout.VMALLOC_END - KernelLayout.VMALLOC_START) >> 10));
        yield return ("VmallocUsed", k.Vmalloc.Areas.Sum(a => (long)a.Pages.Length) << 2);
        foreach (var l in k.DirectMap.Meminfo(k.Options.GbPages))
            yield return l;
    }

    /// <summary>A value by name (without the colon), in kB.</summary>
    public long this[string name]
    {
        get
        {
            string key = name.TrimEnd(':');
            foreach (var (n, v) in Lines())
                if (n == key)
                    return v;
            throw new KeyNotFoundException($"/proc/meminfo has no line '{name}' in this kernel");
        }
    }

    public string Render()
    {
        var sb = new StringBuilder();
        foreach (var (n, v) in Lines())
            sb.Append((n + ":").PadRight(16)).Append(v.ToString().PadLeft(8)).Append(" kB\n");
        return sb.ToString();
    }
}
