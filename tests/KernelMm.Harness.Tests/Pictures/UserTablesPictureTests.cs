using KernelMm.Harness.Pictures;
using static KernelMm.Harness.Tests.Pictures.PictureKernels;

namespace KernelMm.Harness.Tests.Pictures;

/// <summary>A process's PTE tables as cells: none, empty, zero page only, mapping pages.</summary>
public class UserTablesPictureTests
{
    [Test]
    public void Read_written_and_dropped_ranges_are_three_kinds_of_table()
    {
        var (k, p) = ThreeTables();
        var pic = UserTablesPicture.FromKernel(k, p);
        var row = pic.Rows.Single(r => r.Start == 0x40000000);
        Assert.Multiple(() =>
        {
            Assert.That(row.Cells[0].Kind, Is.EqualTo(UserTablesPicture.ZeroOnly));
            Assert.That(row.Cells[0].Detail, Is.EqualTo("PTE table: pages 0, zero page 512, none 0"));
            Assert.That(row.Cells[1].Kind, Is.EqualTo(UserTablesPicture.Mapped));
            Assert.That(row.Cells[2].Kind, Is.EqualTo(UserTablesPicture.EmptyTable));
            Assert.That(row.Cells[3].Kind, Is.EqualTo(UserTablesPicture.NoTable));
            Assert.That(pic.Kinds[UserTablesPicture.ZeroOnly].Label, Is.EqualTo("PTE table, zero page only"));
        });
    }

    [Test]
    public void The_dump_tells_tables_apart_by_level_and_read_only_entries()
    {
        var (k, p) = ThreeTables();
        var fromModel = UserTablesPicture.FromKernel(k, p);
        var fromText = UserTablesPicture.FromPtDump(p.Pid, p.Comm, p.DumpUserPageTables());
        Assert.That(fromText.Rows.Select(r => r.Start), Is.EqualTo(fromModel.Rows.Select(r => r.Start)), "one row per PMD table");
        for (int i = 0; i < fromModel.Rows.Count; i++)
            Assert.That(fromText.Rows[i].Cells.Select(c => c.Kind), Is.EqualTo(fromModel.Rows[i].Cells.Select(c => c.Kind)), fromModel.Rows[i].Label);
        Assert.That(fromText.Kinds[UserTablesPicture.ZeroOnly].Label, Does.Contain("read-only entries only"));
    }
}
