using KernelMm.Harness.Pictures;
using KernelMm.Model.Paging;
using static KernelMm.Harness.Tests.Pictures.PictureKernels;

namespace KernelMm.Harness.Tests.Pictures;

/// <summary>The direct map's leaves, read from the model's tables and from the ptdump text.</summary>
public class DirectMapSourceTests
{
    [Test]
    public void A_fresh_machine_is_4K_then_2M_in_the_first_gigabyte_and_1G_leaves_after()
    {
        var s = DirectMapSource.FromKernel(Boot());
        Assert.Multiple(() =>
        {
            Assert.That(s.Extent, Is.EqualTo(4 * GiB));
            Assert.That(s.Leaves.Sum(l => (long)l.Size), Is.EqualTo(4L << 30), "the leaves cover the map exactly");
            Assert.That(s.Leaves.Where(l => l.Phys >= GiB).Select(l => l.Level).Distinct(), Is.EqualTo(new[] { PageLevel.PG_LEVEL_1G }));
            // init_mem_mapping maps the first 2M with 4K pages and the rest of the first gigabyte
            // with 2M leaves; mark_rodata_ro makes the kernel image's alias ro.
            Assert.That(s.Leaves.Where(l => l.Phys < 2 * MiB).Select(l => l.Level).Distinct(), Is.EqualTo(new[] { PageLevel.PG_LEVEL_4K }));
            Assert.That(s.Leaves.Where(l => l.Phys >= 2 * MiB && l.Phys < GiB).Select(l => l.Level).Distinct(), Is.EqualTo(new[] { PageLevel.PG_LEVEL_2M }));
            Assert.That(s.Leaves.Any(l => l.Phys < GiB && l.Marks.HasFlag(MapMarks.ReadOnly)));
        });
    }

    [Test]
    public void Every_mark_is_read_from_the_entries_bits()
    {
        var s = DirectMapSource.FromKernel(EveryMark());
        MapMarks At(ulong phys) => s.Leaves.Single(l => l.Phys <= phys && phys < l.End).Marks;
        PageLevel LevelAt(ulong phys) => s.Leaves.Single(l => l.Phys <= phys && phys < l.End).Level;
        Assert.Multiple(() =>
        {
            Assert.That(At(GiB), Is.EqualTo(MapMarks.ReadOnly));
            Assert.That(At(GiB + 2 * MiB), Is.EqualTo(MapMarks.Exec));
            Assert.That(At(GiB + 4 * MiB), Is.EqualTo(MapMarks.NotPresent));
            Assert.That(At(GiB + 6 * MiB), Is.EqualTo(MapMarks.Pkey));
            Assert.That(At(GiB + 8 * MiB), Is.EqualTo(MapMarks.Kernel4K));
            Assert.That(At(GiB + 4096), Is.EqualTo(MapMarks.None), "the page after the ro one");
            Assert.That(LevelAt(GiB + 8 * MiB), Is.EqualTo(PageLevel.PG_LEVEL_4K), "set_memory_4k splits");
            Assert.That(LevelAt(GiB + 10 * MiB), Is.EqualTo(PageLevel.PG_LEVEL_2M), "the rest of the gigabyte is 2M");
        });
    }

    [Test]
    public void The_dump_gives_the_same_leaves_and_printed_marks_as_the_tables()
    {
        var k = EveryMark();
        var fromModel = DirectMapSource.FromKernel(k);
        var fromText = DirectMapSource.FromPtDump(k.DumpKernelPageTables().Text)!;
        Assert.That(fromText.Known, Is.EqualTo(MapMarks.Printed));
        Assert.That(fromText.Extent, Is.EqualTo(fromModel.Extent));
        // Compare page by page over every leaf boundary of either.
        var points = fromModel.Leaves.Select(l => l.Phys).Concat(fromText.Leaves.Select(l => l.Phys)).Distinct().Order();
        foreach (ulong p in points)
        {
            var m = fromModel.Leaves.Single(l => l.Phys <= p && p < l.End);
            var t = fromText.Leaves.Single(l => l.Phys <= p && p < l.End);
            Assert.That((t.Level, t.Marks), Is.EqualTo((m.Level, m.Marks & MapMarks.Printed)), $"at 0x{p:x}");
        }
    }

    [Test]
    public void A_dump_without_the_direct_map_gives_no_source()
    {
        Assert.That(DirectMapSource.FromPtDump("---[ User Space ]---\n0x0000000000000000-0xffff880000000000    16777096T                               pgd\n"), Is.Null);
    }
}
