using KernelMm.Harness.Pictures;
using KernelMm.Harness.Repo;
using KernelMm.Harness.Snapshots;
using KernelMm.Harness.State;

namespace KernelMm.Harness.Tests.Pictures;

/// <summary>Every committed snapshot draws: the report reads their text, so a format change that loses the direct map shows here.</summary>
public class CommittedSnapshotPicturesTests
{
    [Test]
    public void Every_checkpoint_with_a_kernel_dump_draws_a_direct_map_that_covers_its_ram()
    {
        var repo = RepoLayout.Find(AppContext.BaseDirectory)!;
        int drawn = 0;
        foreach (var path in Directory.EnumerateFiles(repo.SnapshotsDir, "*" + SnapshotStore.VerifiedSuffix, SearchOption.AllDirectories))
        {
            var file = SnapshotFile.Parse(File.ReadAllText(path));
            foreach (var o in file.Outcomes)
                foreach (var cp in CheckpointState.Parse(o.State))
                {
                    if (!cp.KernelPageTables.Contains("---[ Low Kernel Mapping ]---", StringComparison.Ordinal))
                        continue;
                    var pics = StatePictures.FromText(cp);
                    string where = $"{Path.GetFileName(path)} outcome {o.Index} checkpoint {cp.Name}";
                    Assert.That(pics.DirectMap, Is.Not.Null, where);
                    // MemTotal is RAM less the kernel's reservations: the map covers at least that.
                    long memTotalKb = cp.Meminfo.First(m => m.Name == "MemTotal").Kb;
                    var dm = pics.DirectMap!;
                    Assert.That(dm.Rows.Sum(r => (long)r.Cells.Count) * (long)dm.CellBytes, Is.GreaterThanOrEqualTo(memTotalKb << 10), where);
                    Assert.That(dm.Rows.SelectMany(r => r.Cells).Any(c => c.Kind != DirectMapPicture.NoEntry), where);
                    Assert.That(SvgMap.Render(dm), Does.StartWith("<svg "), where);
                    foreach (var p in pics.Processes)
                        Assert.That(p.Rows, Is.Not.Empty, where);
                    drawn++;
                }
        }
        Assert.That(drawn, Is.GreaterThan(0));
    }
}
