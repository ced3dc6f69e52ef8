using KernelMm.Harness.Review;
using KernelMm.Harness.Snapshots;
using KernelMm.Harness.Suite;
using KernelMm.Harness.Tests.Browser;
using KernelMm.Patches;
using static KernelMm.Harness.Tests.Fakes.FakePatches;

namespace KernelMm.Harness.Tests.Review;

/// <summary>
/// <c>kmm report --html</c>: a self-contained page with each changed scenario's outcomes, maps,
/// numbers and diff; and that page as a real browser renders it.
/// </summary>
public class HtmlReportTests
{
    private static readonly Series Toggles = Of(new Invisible("quiet", 1), new Invisible("touch", 2));

    // A read-only page in the second gigabyte and a process with a zero-page table.
    private const string Before = """
        // Draws: ro in the second gigabyte, a process reading 2 MiB.
        Kernel.SetMemory.ReadOnly(Kernel.DirectMapAddress(262144), 1);
        var p = Spawn("w");
        var a = p.Mmap(4.MiB());
        p.Touch(a, 2.MiB(), Access.Read);

        """;

    // Where touch is applied, a page of the third gigabyte is made not present and the process writes.
    private const string After = """
        // Draws: ro in the second gigabyte, a process reading 2 MiB.
        Kernel.SetMemory.ReadOnly(Kernel.DirectMapAddress(262144), 1);
        var p = Spawn("w");
        var a = p.Mmap(4.MiB());
        p.Touch(a, 2.MiB(), Access.Read);
        if (Patches.IsApplied("touch")) { Kernel.SetMemory.NotPresent(Kernel.DirectMapAddress(524288 + 1024), 1); p.Touch(a + (ulong)2.MiB(), 2.MiB(), Access.Write); }

        """;

    // Built once: it compiles and runs two scenarios.
    private static readonly Lazy<(string Html, SnapshotComparison Comparison)> Built = new(() => (Build(out var c), c));

    internal static string Report(out SnapshotComparison comparison)
    {
        comparison = Built.Value.Comparison;
        return Built.Value.Html;
    }

    private static string Build(out SnapshotComparison comparison)
    {
        using var clone = new TestClone();
        Assert.That(Run(clone, "maps/split", Before, UpdateMode.Always).Status, Is.EqualTo(ScenarioStatus.Updated));
        Assert.That(Run(clone, "maps/split", After).Status, Is.EqualTo(ScenarioStatus.Changed));
        Run(clone, "maps/same", Before, UpdateMode.Always);
        comparison = SnapshotSources.Pending(clone.Store());
        return HtmlReport.Render(comparison, [("maps/same", clone.Store().ReadVerified("maps/same")!)]);
    }

    private static ScenarioReport Run(TestClone clone, string id, string script, UpdateMode mode = UpdateMode.New) =>
        clone.Runner(Toggles, store: clone.Store(mode)).Run(clone.Scenario($"Scenarios/{id}.csx", script));

    [Test]
    public void The_report_shows_outcomes_maps_numbers_and_diff()
    {
        string html = Report(out var comparison);
        Assert.Multiple(() =>
        {
            Assert.That(html, Does.StartWith("<!DOCTYPE html>\n"));
            Assert.That(html, Does.Contain("<h2><code>maps/split</code>: changed</h2>"));
            Assert.That(html, Does.Contain("Changed in 2 combinations of 4: <code>touch</code>."));
            // "all" split in two: both outcomes are new, only the one with touch changed state.
            Assert.That(html, Does.Contain("<h3>outcome 1 of 2: <code>!touch</code> (2 combinations): new outcome, unchanged</h3>"));
            Assert.That(html, Does.Contain("<h3>outcome 2 of 2: <code>touch</code> (2 combinations): new outcome, changed</h3>"));
            Assert.That(html, Does.Contain("direct map, verified vs received"));
            Assert.That(html, Does.Contain("direct map, base kernel vs this outcome"));
            Assert.That(html, Does.Contain("process 300 (w): user page tables, verified vs received"));
            Assert.That(html, Does.Contain("class=\"changed\""), "changed cells outlined");
            Assert.That(html, Does.Contain("numbers that moved (verified → received)"));
            Assert.That(html, Does.Contain("<code>meminfo.DirectMap4k</code>"));
            Assert.That(html, Does.Contain("<span class=\"add\">"), "the text diff");
            Assert.That(html, Does.Contain("<h2><code>maps/same</code>: unchanged</h2>"));
            Assert.That(HtmlReport.Render(comparison, []), Is.EqualTo(HtmlReport.Render(comparison, [])), "deterministic");
        });
    }

    [Test]
    public void The_report_needs_nothing_outside_itself()
    {
        string html = Report(out _);
        Assert.Multiple(() =>
        {
            Assert.That(html, Does.Not.Contain("<script"));
            Assert.That(html, Does.Not.Contain("<link"));
            Assert.That(html, Does.Not.Contain(" src="));
            Assert.That(html, Does.Not.Contain("url("));
            Assert.That(html.Replace("xmlns=\"http://www.w3.org/2000/svg\"", ""), Does.Not.Contain("http"), "only the SVG namespace names a URL");
            Assert.That(System.Text.RegularExpressions.Regex.Matches(html, "href=\"([^\"]*)\"").Select(m => m.Groups[1].Value), Has.All.StartWith("#"));
        });
    }

    [Test]
    public void The_report_renders_in_headless_chromium()
    {
        string chromium = Chromium();
        using var dir = new TempDir();
        string page = dir.Write("report/index.html", Report(out _));
        var load = HeadlessChromium.Load(chromium, page, 1400, 1000, TimeSpan.FromSeconds(90));
        string shot = Path.Combine(TestContext.CurrentContext.WorkDirectory, "report-screenshot.png");
        File.WriteAllBytes(shot, load.PngBytes);
        TestContext.AddTestAttachment(shot, "the report's first screen in headless Chromium");
        var colours = load.Screenshot.Histogram();
        Assert.Multiple(() =>
        {
            Assert.That((load.Screenshot.Width, load.Screenshot.Height), Is.EqualTo((1400, 1000)));
            Assert.That(load.Errors, Is.Empty, "console errors, exceptions, failed loads");
            Assert.That(load.Requests, Is.EqualTo(new[] { new Uri(page).AbsoluteUri }), "the page asks for nothing but itself");
            // The direct map's leaf colours (1G, 2M, 4K) and the white page.
            foreach (int c in new[] { 0x2e7d32, 0xf2b01e, 0xd32f2f, 0xffffff })
                Assert.That(colours.GetValueOrDefault(c), Is.GreaterThan(20), $"pixels of #{c:x6}");
        });
    }

    [Test]
    public void The_browser_check_sees_console_errors_and_failed_loads()
    {
        string chromium = Chromium();
        using var dir = new TempDir();
        string page = dir.Write("bad.html", "<!DOCTYPE html><html><body><p>bad</p><script>console.error('drawn wrong')</script><img src=\"missing.png\"></body></html>\n");
        var load = HeadlessChromium.Load(chromium, page, 300, 200, TimeSpan.FromSeconds(90));
        Assert.Multiple(() =>
        {
            Assert.That(load.Errors, Has.Some.Contains("drawn wrong"));
            Assert.That(load.Errors, Has.Some.StartWith("log: "), "the missing image");
            Assert.That(load.Requests, Has.Some.EndsWith("/missing.png"));
            Assert.That((load.Screenshot.Width, load.Screenshot.Height), Is.EqualTo((300, 200)));
        });
    }

    // .ci/run installs Debian's chromium where it is missing; on a developer's machine without one the browser tests are skipped.
    private static string Chromium()
    {
        if (HeadlessChromium.Find() is { } path)
            return path;
        if (SnapshotPolicy.IsCi(Environment.GetEnvironmentVariable))
            Assert.Fail("no chromium on PATH: .ci/run installs the chromium package (apt-get) before the tests");
        Assert.Ignore("no chromium on PATH (apt-get install chromium); CI runs this test");
        return "";
    }
}
