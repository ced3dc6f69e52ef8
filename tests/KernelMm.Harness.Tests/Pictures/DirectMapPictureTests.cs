using KernelMm.Harness.Pictures;
using KernelMm.Model;
using static KernelMm.Harness.Tests.Pictures.PictureKernels;

namespace KernelMm.Harness.Tests.Pictures;

/// <summary>The direct map as cells: 2 MiB each, 1 GiB rows, aggregated for large machines.</summary>
public class DirectMapPictureTests
{
    private static MapPicture Draw(Kernel k) => DirectMapPicture.Build(DirectMapSource.FromKernel(k), "t", k.Meminfo.Lines());

    [Test]
    public void A_4G_machine_is_four_rows_of_512_cells()
    {
        var p = Draw(Boot());
        Assert.Multiple(() =>
        {
            Assert.That(p.CellBytes, Is.EqualTo(2 * MiB));
            Assert.That(p.Rows.Select(r => r.Cells.Count), Is.EqualTo(new[] { 512, 512, 512, 512 }));
            Assert.That(p.Rows.Select(r => r.Label), Is.EqualTo(new[] { "0", "1G", "2G", "3G" }));
            Assert.That(p.Rows[1].Cells.Select(c => c.Kind).Distinct(), Is.EqualTo(new[] { DirectMapPicture.Leaf1G }));
            // init_mem_mapping's 4K head, then 2M leaves for the rest of the first gigabyte.
            Assert.That(p.Rows[0].Cells[0].Kind, Is.EqualTo(DirectMapPicture.Leaf4K));
            Assert.That(p.Rows[0].Cells.Skip(1).Select(c => c.Kind).Distinct(), Is.EqualTo(new[] { DirectMapPicture.Leaf2M }));
            Assert.That(p.Notes, Has.Some.Contains("DirectMap1G: 5242880 kB"), "the kernel counts the top gigabyte once per mapping step");
        });
    }

    [Test]
    public void Each_mark_lands_in_its_own_cell_with_its_size()
    {
        var cells = Draw(EveryMark()).Rows[1].Cells;
        Assert.Multiple(() =>
        {
            Assert.That(cells[0], Is.EqualTo(new MapCell(DirectMapPicture.Leaf4K, MapMarks.ReadOnly, "4K leaves; ro 4K")));
            Assert.That(cells[1], Is.EqualTo(new MapCell(DirectMapPicture.Leaf4K, MapMarks.Exec, "4K leaves; x (NX cleared) 4K")));
            Assert.That(cells[2], Is.EqualTo(new MapCell(DirectMapPicture.Leaf4K, MapMarks.NotPresent, "4K leaves; not present 4K")));
            Assert.That(cells[3], Is.EqualTo(new MapCell(DirectMapPicture.Leaf4K, MapMarks.Pkey, "4K leaves; PKS key 4K")));
            Assert.That(cells[4], Is.EqualTo(new MapCell(DirectMapPicture.Leaf4K, MapMarks.Kernel4K, "4K leaves; _PAGE_KERNEL_4K 4K")));
            Assert.That(cells[5], Is.EqualTo(new MapCell(DirectMapPicture.Leaf2M, MapMarks.None, "2M leaf")));
        });
    }

    [Test]
    public void A_1T_machine_aggregates_to_64_rows_of_32M_cells_and_a_split_shows_as_4K()
    {
        var k = Boot(memory: 1L << 40);
        ulong at = 700 * GiB + 40 * MiB;
        k.SetMemory.ReadOnly(KernelLayout.PAGE_OFFSET + at, 1);
        var p = Draw(k);
        var hit = p.Rows[(int)(at / (16 * GiB))].Cells[(int)(at % (16 * GiB) / (32 * MiB))];
        Assert.Multiple(() =>
        {
            Assert.That(DirectMapPicture.CellSizeFor(1UL << 40), Is.EqualTo(32 * MiB));
            Assert.That(p.Rows, Has.Count.EqualTo(64));
            Assert.That(p.Rows.Select(r => r.Cells.Count).Distinct(), Is.EqualTo(new[] { 512 }));
            Assert.That(hit.Kind, Is.EqualTo(DirectMapPicture.Leaf4K), "the smallest leaf colours the cell");
            Assert.That(hit.Marks, Is.EqualTo(MapMarks.ReadOnly));
            Assert.That(hit.Detail, Is.EqualTo("4K leaves 2M, 2M leaf 30M; ro 4K"));
            Assert.That(p.Notes[0], Does.StartWith("one cell = 32M (aggregated"));
            Assert.That(p.Rows.SelectMany(r => r.Cells).Count(c => c.Kind == DirectMapPicture.Leaf4K), Is.EqualTo(2), "the split and the boot 4K head");
        });
    }

    [Test]
    public void Up_to_64G_cells_stay_2M()
    {
        Assert.Multiple(() =>
        {
            Assert.That(DirectMapPicture.CellSizeFor(64 * GiB), Is.EqualTo(2 * MiB));
            Assert.That(DirectMapPicture.CellSizeFor(64 * GiB + 2 * MiB), Is.EqualTo(4 * MiB));
        });
    }
}
