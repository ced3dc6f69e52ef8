using KernelMm.Harness.State;
using KernelMm.Model;

namespace KernelMm.Harness.Pictures;

/// <summary>
/// The maps of one checkpoint: the direct map and each live process's user page tables (up to
/// <see cref="MaxProcesses"/>, those with a PMD table). From the model at the checkpoint
/// (<see cref="FromKernel"/>: exact, every bit) or from the checkpoint's text in a snapshot
/// (<see cref="FromText"/>: what the ptdump prints).
/// </summary>
/// <param name="Checkpoint">The checkpoint's name.</param>
/// <param name="DirectMap">The direct map; null when the text carries no kernel dump of it.</param>
/// <param name="Processes">The processes' maps, by pid.</param>
/// <param name="MoreProcesses">Processes with page tables that were not drawn.</param>
public sealed record StatePictures(string Checkpoint, MapPicture? DirectMap, IReadOnlyList<MapPicture> Processes, int MoreProcesses)
{
    public const int MaxProcesses = 16;

    public static StatePictures FromKernel(string checkpoint, Kernel k)
    {
        var dm = DirectMapPicture.Build(DirectMapSource.FromKernel(k), $"direct map at checkpoint '{checkpoint}'", k.Meminfo.Lines());
        var procs = k.Processes.Where(p => p.Alive).Select(p => UserTablesPicture.FromKernel(k, p)).Where(p => p.Rows.Count > 0).ToList();
        return new StatePictures(checkpoint, dm, [.. procs.Take(MaxProcesses)], Math.Max(0, procs.Count - MaxProcesses));
    }

    public static StatePictures FromText(CheckpointState cp)
    {
        var source = DirectMapSource.FromPtDump(cp.KernelPageTables);
        var dm = source is null ? null : DirectMapPicture.Build(source, $"direct map at checkpoint '{cp.Name}'", cp.Meminfo);
        var procs = cp.Processes.Select(p => UserTablesPicture.FromPtDump(p.Pid, p.Comm, p.PageTables)).Where(p => p.Rows.Count > 0).ToList();
        return new StatePictures(cp.Name, dm, [.. procs.Take(MaxProcesses)], Math.Max(0, procs.Count - MaxProcesses));
    }

    /// <summary>Every map of this checkpoint, the direct map first, drawn one under another, with a line for the processes left out.</summary>
    public IEnumerable<string> Svgs()
    {
        foreach (var m in DirectMap is null ? Processes : Processes.Prepend(DirectMap))
            yield return SvgMap.Render(m);
        if (MoreProcesses > 0)
            yield return SvgMap.Heading($"{MoreProcesses} more processes with page tables at checkpoint '{Checkpoint}' not drawn (the first {MaxProcesses} are)");
    }
}
