using KernelMm.Model.Mm;

namespace KernelMm.Harness.Oracle;

/// <summary>The model's side of <see cref="Figures"/>: what its /proc files would say of a process.</summary>
internal static class ModelFigures
{
    public static Figures Read(Process p)
    {
        var status = p.StatusLines().ToDictionary(l => l.Name, l => l.Kb, StringComparer.Ordinal);
        var vmas = p.Mm.Vmas.Select(v => (v.Start, v.End, v.Perms)).ToList();
        long present = 0, zero = 0;
        foreach (var v in p.Mm.Vmas)
        {
            var (pr, z) = p.Mm.PagemapCounts(v.Start, v.End);
            present += pr;
            zero += z;
        }
        return new Figures(status, p.MinFlt, vmas, present, zero);
    }
}
