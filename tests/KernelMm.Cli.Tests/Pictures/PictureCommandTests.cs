using System.Text;

namespace KernelMm.Cli.Tests.Pictures;

/// <summary><c>kmm show --svg</c> and <c>kmm report --html</c> through kmm itself, in a throwaway clone.</summary>
public class PictureCommandTests
{
    // PKS page tables (grouped-pages' boot option) key each table page's direct-map alias; two checkpoints.
    private const string Script = """
        // Draws: PKS-keyed page tables in the direct map, a checkpoint before and after a process touches memory.
        Boot(memory: 2.GiB(), pti: false, protectPageTables: true);
        Checkpoint("booted");
        var p = Spawn("w");
        var a = p.Mmap(8.MiB());
        p.Touch(a, 8.MiB(), Access.Write);

        """;

    [Test]
    public void Show_svg_draws_every_checkpoint_from_the_model_byte_for_byte_again()
    {
        using var clone = new KmmClone();
        clone.Write("Scenarios/pks.csx", Script);
        var r = clone.Kmm("show", "Scenarios/pks.csx", "--patches", "none", "--svg", "maps.svg");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Err, Is.EqualTo("wrote maps.svg: 2 checkpoint(s)\n"));
        string svg = Encoding.UTF8.GetString(clone.ReadBytes("maps.svg"));
        Assert.Multiple(() =>
        {
            Assert.That(svg, Does.StartWith("<svg xmlns=\"http://www.w3.org/2000/svg\""));
            Assert.That(svg, Does.Contain("pks [patches: none]"));
            Assert.That(svg, Does.Contain("direct map at checkpoint 'booted'").And.Contain("direct map at checkpoint 'end'"));
            Assert.That(svg, Does.Contain("process 300 (w): user page tables"));
            Assert.That(svg, Does.Contain("; PKS key"), "the model's bits: the key the dump does not print");
            Assert.That(svg, Does.Not.Contain("drawn from the ptdump text"));
        });
        clone.Kmm("show", "Scenarios/pks.csx", "--patches", "none", "--svg", "again.svg");
        Assert.That(clone.ReadBytes("again.svg"), Is.EqualTo(clone.ReadBytes("maps.svg")));
    }

    [Test]
    public void Report_html_writes_one_self_contained_page()
    {
        using var clone = new KmmClone();
        clone.Write("Scenarios/pks.csx", Script);
        Assert.That(clone.Kmm("run", "Scenarios/pks.csx").ExitCode, Is.EqualTo(1), "a new snapshot");
        clone.Kmm("accept");
        clone.Write("Scenarios/pks.csx", Script.Replace("8.MiB()", "16.MiB()"));
        Assert.That(clone.Kmm("run", "Scenarios/pks.csx").ExitCode, Is.EqualTo(1), "a changed snapshot");

        var r = clone.Kmm("report", "--html", "out");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Err, Does.Contain("wrote out"));
        Assert.That(Directory.GetFiles(clone.FullPath("out")).Select(Path.GetFileName), Is.EqualTo(new[] { "index.html" }));
        string html = Encoding.UTF8.GetString(clone.ReadBytes("out/index.html"));
        Assert.That(html, Does.Contain("direct map, verified vs received").And.Contain("process 300 (w): user page tables, verified vs received"));
        Assert.That(r.Out, Is.Empty, "without --markdown only the page is written");

        // After review: nothing changed, so --all draws the scenario's outcome, re-run and drawn from the model.
        clone.Kmm("accept");
        Assert.That(clone.Kmm("report", "--html", "all", "--all").ExitCode, Is.EqualTo(0));
        string drawn = Encoding.UTF8.GetString(clone.ReadBytes("all/index.html"));
        Assert.That(drawn, Does.Contain("<h2><code>pks</code>: unchanged</h2>"));
        Assert.That(drawn, Does.Contain("Maps of this outcome drawn from the model").And.Contain("; PKS key"));
        Assert.That(clone.Kmm("report", "--html", "text", "--all", "--text-only").ExitCode, Is.EqualTo(0));
        string text = Encoding.UTF8.GetString(clone.ReadBytes("text/index.html"));
        Assert.That(text, Does.Not.Contain("drawn from the model").And.Not.Contain("; PKS key"));
        Assert.That(text, Does.Contain("drawn from the ptdump text"));

        var all = clone.Kmm("report", "--all");
        Assert.That(all.ExitCode, Is.EqualTo(2));
        Assert.That(all.Err, Is.EqualTo("kmm: --all draws maps: it needs --html DIR\n"));
    }
}
