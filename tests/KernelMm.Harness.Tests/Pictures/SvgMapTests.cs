using KernelMm.Harness.Pictures;
using KernelMm.Harness.Tests.Bisect;
using KernelMm.Model;
using static KernelMm.Harness.Tests.Pictures.PictureKernels;

namespace KernelMm.Harness.Tests.Pictures;

/// <summary>The SVG text, kept as snapshots: the same picture gives the same bytes.</summary>
public class SvgMapTests
{
    private static MapPicture Draw(Kernel k, string title) => DirectMapPicture.Build(DirectMapSource.FromKernel(k), title, k.Meminfo.Lines());

    [Test]
    public void The_direct_map_with_every_mark()
    {
        string svg = SvgMap.Render(Draw(EveryMark(), "every mark"));
        TestSnapshots.Verify("pictures/direct-map-every-mark", svg);
        Assert.That(SvgMap.Render(Draw(EveryMark(), "every mark")), Is.EqualTo(svg), "a second kernel, the same bytes");
    }

    [Test]
    public void Base_and_changed_side_by_side_outline_the_changed_cells()
    {
        var left = Draw(Boot(), "base");
        var right = Draw(EveryMark(), "changed");
        var changed = SvgMap.ChangedCells(left, right, out int count);
        Assert.Multiple(() =>
        {
            // The second gigabyte's 1G leaf split to 2M leaves, five of them to 4K: all 512 cells changed, no other.
            Assert.That(count, Is.EqualTo(512));
            Assert.That(changed[GiB], Has.All.True);
            Assert.That(changed.Where(kv => kv.Key != GiB).SelectMany(kv => kv.Value), Has.All.False);
        });
        string svg = SvgMap.RenderSideBySide("direct map, base vs every mark", left, right, "base kernel", "every mark");
        // One outline per run of changed cells, on each side.
        Assert.That(svg.Split("class=\"changed\"").Length - 1, Is.EqualTo(2));
        TestSnapshots.Verify("pictures/direct-map-side-by-side", svg);
    }

    [Test]
    public void Marks_the_dump_cannot_tell_do_not_count_as_changes()
    {
        var k = EveryMark();
        var model = Draw(k, "model");
        var text = DirectMapPicture.Build(DirectMapSource.FromPtDump(k.DumpKernelPageTables().Text)!, "text", k.Meminfo.Lines());
        SvgMap.ChangedCells(model, text, out int count);
        Assert.That(count, Is.Zero);
        Assert.That(text.Notes, Has.Some.Contains("prints neither the PKS key nor _PAGE_KERNEL_4K"));
    }

    [Test]
    public void A_process_tables_map()
    {
        var (k, p) = ThreeTables();
        TestSnapshots.Verify("pictures/user-tables", SvgMap.Render(UserTablesPicture.FromKernel(k, p)));
    }
}
