namespace KernelMm.Cli.Tests.Series;

/// <summary>
/// <c>--series</c> end to end: the upstream series runs against its own snapshots
/// (Snapshots-upstream/), is run by default once the clone keeps that folder, is chosen per
/// command, and <c>kmm compare</c> puts a posted patch beside its upstream descendant.
/// </summary>
[NonParallelizable]
public class SeriesCommandTests
{
    // A jemalloc-style purge of one whole PTE table: free_ptes by hand (pte-refcount) against reclaim at MADV_DONTNEED (pt-reclaim).
    private const string Script = """
        // Purges one 2M extent, then asks free_ptes.
        var p = Spawn("app");
        var buf = p.Mmap(2.MiB(), at: 0x7f0000000000);
        p.Touch(buf, 2.MiB(), Access.Write);
        p.Madvise(buf, 2.MiB(), Advice.DontNeed);
        Checkpoint("purged");
        Record("VmPTE kB", p.Status["VmPTE"]);
        Record("free_ptes", Kernel.Sysctl.Write("vm.free_ptes", p.Pid));
        Record("pte-refcount", Patches.IsApplied("pte-refcount"));
        """;

    private KmmClone _clone = null!;

    [SetUp]
    public void SetUp()
    {
        _clone = new KmmClone();
        _clone.Write("Scenarios/purge.csx", Script);
    }

    [TearDown]
    public void TearDown() => _clone.Dispose();

    [Test]
    public void The_upstream_series_keeps_its_own_snapshots_and_is_run_once_the_clone_keeps_them()
    {
        var posted = _clone.Kmm("run");
        Assert.That(posted.ExitCode, Is.EqualTo(1), posted.ToString());
        Assert.That(_clone.Snapshots().Received, Is.EqualTo(new[] { "Snapshots/purge.received.txt" }), "no Snapshots-upstream/ yet: the posted series only");

        var upstream = _clone.Kmm("run", "--series", "upstream");
        Assert.That(upstream.Out, Does.Contain("Scenarios/purge.csx [upstream]"), upstream.ToString());
        Assert.That(_clone.Snapshots().Received, Is.EqualTo(new[] { "Snapshots-upstream/purge.received.txt", "Snapshots/purge.received.txt" }));
        string text = System.Text.Encoding.UTF8.GetString(_clone.ReadBytes("Snapshots-upstream/purge.received.txt"));
        Assert.That(text, Does.StartWith("scenario: purge\nseries: kmemcg-page-alloc pt-reclaim collapse-large-pages\ncombinations: 8\noutcomes: 4\n"));
        Assert.That(text, Does.Contain("pte-refcount = false"), "a posted patch reads as not applied under the upstream series");

        var accept = _clone.Kmm("accept");
        Assert.That(accept.Out, Does.Contain("accepted Snapshots/purge.verified.txt").And.Contain("accepted Snapshots-upstream/purge.verified.txt"));
        var both = _clone.Kmm("run");
        Assert.That(both.ExitCode, Is.EqualTo(0), both.ToString());
        Assert.That(both.Out, Does.Contain("2 verified"), "Snapshots-upstream/ exists now: kmm run verifies both series");

        _clone.Write("Snapshots-upstream/gone.verified.txt", "scenario: gone\n");
        var orphan = _clone.Kmm("run", "--series", "upstream");
        Assert.That(orphan.Err, Does.Contain("Snapshots-upstream/gone.verified.txt: orphan snapshot: no Scenarios/gone.csx"));
        var bogus = _clone.Kmm("run", "--series", "merged");
        Assert.That((bogus.ExitCode, bogus.Err), Is.EqualTo((2, "kmm: no series 'merged' (there are: posted, upstream), or 'all'\n")));
    }

    [Test]
    public void Show_check_and_bisect_take_the_series_of_their_patches()
    {
        var show = _clone.Kmm("show", "Scenarios/purge.csx", "--series", "upstream", "--patches", "pt-reclaim");
        Assert.That(show.ExitCode, Is.EqualTo(0), show.ToString());
        Assert.That(show.Out, Does.StartWith("scenario: purge\nseries: upstream\npatches: pt-reclaim\n"));
        Assert.That(show.Out, Does.Contain("VmPTE kB = 20"), "the PTE table went in the madvise call (24 kB with it)");

        var wrong = _clone.Kmm("show", "Scenarios/purge.csx", "--patches", "pt-reclaim");
        Assert.That((wrong.ExitCode, wrong.Err), Is.EqualTo((2, "kmm: patch 'pt-reclaim' is in the upstream series, not the posted one: add --series upstream\n")));

        const string where = "Recorded[\"VmPTE kB\"] < 24";
        var bad = _clone.Kmm("check", "Scenarios/purge.csx", "--series", "upstream", "--patches", "pt-reclaim", "--where", where);
        Assert.That((bad.ExitCode, bad.Out), Is.EqualTo((1, "bad [series: upstream, patches: pt-reclaim]: Recorded[\"VmPTE kB\"] < 24, at any checkpoint: holds at 'end'\n")));
        Assert.That(_clone.Kmm("check", "Scenarios/purge.csx", "--patches", "all", "--where", where).ExitCode, Is.EqualTo(0), "the posted series keeps the table until free_ptes");

        var bisect = _clone.Kmm("bisect", "Scenarios/purge.csx", "--series", "upstream", "--where", where);
        Assert.That(bisect.Out, Does.Contain("series: kmemcg-page-alloc pt-reclaim collapse-large-pages").And.Contain("first bad prefix: [1-2] pt-reclaim"), bisect.ToString());
    }

    [Test]
    public void Compare_puts_a_posting_beside_what_landed()
    {
        var r = _clone.Kmm("compare", "Scenarios/purge.csx", "--base", "pte-refcount", "--head", "pt-reclaim", "--checkpoint", "end");
        Assert.That(r.ExitCode, Is.EqualTo(0), r.ToString());
        Assert.That(r.Out, Does.StartWith("scenario: purge\nbase: posted:pte-refcount\nhead: upstream:pt-reclaim\n"));
        Assert.That(r.Out, Does.Contain("              24         -16.7%               20  recorded.VmPTE kB\n"));

        var same = _clone.Kmm("compare", "Scenarios/purge.csx", "--series", "upstream", "--head", "pt-reclaim");
        Assert.That(same.Out, Does.Contain("base: none\nhead: pt-reclaim\n"), "one series: plain labels");
        var explicitSides = _clone.Kmm("compare", "Scenarios/purge.csx", "--base-series", "posted", "--base", "all", "--head-series", "upstream", "--head", "all");
        Assert.That(explicitSides.Out, Does.Contain("base: posted:kaiser-nr-overhead,grouped-pages,kmem-uncharge-free,restore-large-pages,pte-refcount\nhead: upstream:kmemcg-page-alloc,pt-reclaim,collapse-large-pages\n"),
            explicitSides.ToString());
    }
}
