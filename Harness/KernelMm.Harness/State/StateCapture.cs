using System.Text;
using KernelMm.Model;
using KernelMm.Model.Mm;
using KernelMm.Model.Stats;

namespace KernelMm.Harness.State;

/// <summary>
/// Renders a kernel's state at a checkpoint in the snapshot's sections: vmstat counters,
/// vm events, meminfo, each live process (status and user page tables), memory cgroups,
/// the kernel page tables with the W+X check, the values the script recorded, and the
/// kernel's warnings, followed by what the model's invariant checks (frame conservation,
/// table accounting, counters, memcg charges, TLB coherence, a patch's own) find wrong.
/// Everything comes from the model's own renderings, in the model's
/// order, so the text is the same on every run and machine.
/// </summary>
public static class StateCapture
{
    /// <summary>The sections a checkpoint can have, in the order they are printed.</summary>
    public static readonly string[] SectionOrder =
        ["vmstat", "events", "meminfo", "processes", "memcg", "kernel page tables", "recorded", "warnings"];

    /// <param name="k">The kernel.</param>
    /// <param name="recorded">The values recorded for this checkpoint.</param>
    /// <param name="options">The sections to print and the range of the page-table dumps (default: all of both).</param>
    /// <returns>The sections, and how many invariant violations they report (a finding).</returns>
    public static (string Text, int Findings) Capture(Kernel k, IReadOnlyList<KeyValuePair<string, string>> recorded, CaptureOptions? options = null)
    {
        options ??= CaptureOptions.Default;
        var sb = new StringBuilder();
        var lines = k.VmStat.Lines().ToList();
        // The kernel's own events and any a patch registered (direct_map_level2_collapses).
        var events = new HashSet<string>(lines.Select(l => l.Name).Where(k.VmStat.IsEvent), StringComparer.Ordinal);

        if (options.Has(Scripting.Section.Vmstat))
        {
            Section(sb, "vmstat");
            foreach (var (n, v) in lines.Where(l => !events.Contains(l.Name)))
                sb.Append(n).Append(' ').Append(v).Append('\n');
        }

        if (options.Has(Scripting.Section.Events))
        {
            Section(sb, "events");
            foreach (var (n, v) in lines.Where(l => events.Contains(l.Name)))
                sb.Append(n).Append(' ').Append(v).Append('\n');
        }

        if (options.Has(Scripting.Section.Meminfo))
        {
            Section(sb, "meminfo");
            sb.Append(k.Meminfo.Render());
        }

        if (options.Has(Scripting.Section.Processes))
            Processes(sb, k, options);
        if (options.Has(Scripting.Section.Memcg))
            Memcgs(sb, k);
        if (options.Has(Scripting.Section.KernelPageTables))
        {
            Section(sb, "kernel page tables");
            var dump = k.DumpKernelPageTables();
            AppendBlock(sb, options.Range is { } r ? DumpClip.Clip(dump.Text, r) : dump.Text);
            sb.Append(dump.WxSummary).Append('\n');
        }

        Section(sb, "recorded");
        if (recorded.Count == 0)
            sb.Append("none\n");
        foreach (var (key, value) in recorded)
            sb.Append(key).Append(" = ").Append(value).Append('\n');

        Section(sb, "warnings");
        var violations = k.RunChecks();
        if (k.Log.Warnings.Count == 0 && k.Log.Taints.Count == 0 && violations.Count == 0)
            sb.Append("none\n");
        foreach (var w in k.Log.Warnings)
            sb.Append(w.Kind).Append(": ").Append(w.Message).Append('\n');
        if (k.Log.Taints.Count > 0)
            sb.Append("tainted: ").Append(string.Concat(k.Log.Taints)).Append('\n');
        foreach (var v in violations)
            sb.Append("invariant ").Append(v.Kind).Append(": ").Append(v.Message).Append('\n');
        return (sb.ToString(), violations.Count);
    }

    private static void Processes(StringBuilder sb, Kernel k, CaptureOptions options)
    {
        Section(sb, "processes");
        if (k.Processes.Count == 0)
            sb.Append("none\n");
        foreach (var p in k.Processes)
        {
            sb.Append("##### process ").Append(p.Pid).Append(" (").Append(p.Comm).Append(")\n");
            if (p.Memcg is { } cg)
                sb.Append("memcg: ").Append(cg.Name).Append('\n');
            foreach (var (n, kb) in p.StatusLines())
                sb.Append((n + ":").PadRight(10)).Append(kb.ToString().PadLeft(8)).Append(" kB\n");
            if (!options.Has(Scripting.Section.UserPageTables))
                continue;
            sb.Append("user page tables:\n");
            AppendBlock(sb, options.Range is { } r ? DumpClip.Clip(p.DumpUserPageTables(), r) : p.DumpUserPageTables());
        }
    }

    private static void Memcgs(StringBuilder sb, Kernel k)
    {
        Section(sb, "memcg");
        // A removed cgroup shows while pages still charged to it keep it alive (dying), then it is freed.
        var shown = k.Memcgs.All.Where(cg => cg.Online || MemcgController.IsDying(cg)).ToList();
        if (shown.Count == 0)
            sb.Append("none\n");
        foreach (var cg in shown)
        {
            sb.Append("##### memcg ").Append(cg.Name).Append(cg.Online ? "" : " (dying)").Append('\n');
            sb.Append("memory.usage_in_bytes ").Append(cg.Usage).Append('\n');
            sb.Append("memory.kmem.usage_in_bytes ").Append(cg.KmemUsage).Append('\n');
            foreach (var (n, bytes) in cg.StatLines())
                sb.Append("memory.stat ").Append(n).Append(' ').Append(bytes).Append('\n');
        }
    }

    private static void Section(StringBuilder sb, string name) => sb.Append("#### ").Append(name).Append('\n');

    private static void AppendBlock(StringBuilder sb, string text)
    {
        if (text.Length == 0)
            return;
        sb.Append(text);
        if (!text.EndsWith('\n'))
            sb.Append('\n');
    }
}
