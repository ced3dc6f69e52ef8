using KernelMm.Model.Diagnostics;
using KernelMm.Model.Memory;

namespace KernelMm.Model.Tests.Memory;

/// <summary>bad_page and __dump_page as mm/page_alloc.c and mm/debug.c (5.9) print them, with bad_page's rate limit.</summary>
public class BadPageTests
{
    private PageFrames _frames = null!;
    private KernelLog _log = null!;
    private BuddyAllocator _buddy = null!;

    [SetUp]
    public void SetUp()
    {
        _frames = new PageFrames(2048);
        _log = new KernelLog();
        _buddy = new BuddyAllocator(_frames, [new Zone(ZoneType.ZONE_NORMAL, 0, 2048)], new KernelMm.Model.Stats.VmStat(), _log);
        _buddy.FreeBootMemory(0, 2048);
        _buddy.MemcgName = id => id == 3 ? "vm" : null;
    }

    private string[] Lines => [.. _log.Warnings.Select(w => w.Message)];

    [Test]
    public void ALeftoverPageTableReadsAsA5xKernelReportsIt()
    {
        long pfn = _buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.UserPageTable);
        _frames[pfn].Flags |= PageFlags.PG_table; // the destructor never ran
        _buddy.CurrentComm = "qemu";
        _buddy.FreePages(pfn, 0);
        Assert.That(Lines, Is.EqualTo(new[]
        {
            $"BUG: Bad page state in process qemu  pfn:{pfn:x5}",
            $"page:{0xffffea0000000000 + (ulong)pfn * 64:x16} refcount:0 mapcount:-1024 mapping:0000000000000000 index:0x0",
            "flags: 0x200000000000000()",
            "page dumped because: nonzero mapcount",
        }), "PageTable is the page_type bit 0x400 of the _mapcount word since 4.18: -1025, printed +1");
        Assert.That(_frames.Peek(pfn).MapCount, Is.EqualTo(MapcountValues.Unmapped), "page_mapcount_reset");
    }

    [Test]
    public void EveryTestRunsAndTheLastMatchingReasonWins()
    {
        long pfn = _buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.UserPageTable);
        _frames[pfn].Flags |= PageFlags.PG_table | PageFlags.PG_lru | PageFlags.PG_dirty;
        _frames[pfn].MemcgId = 3;
        _buddy.FreePages(pfn, 0);
        Assert.Multiple(() =>
        {
            Assert.That(Lines[2], Is.EqualTo("flags: 0x200000000000018(dirty|lru)"));
            Assert.That(Lines[3], Is.EqualTo("page dumped because: page still charged to cgroup"), "not the first match, nonzero mapcount");
            Assert.That(Lines[4], Is.EqualTo("page->mem_cgroup:vm"));
            Assert.That(Lines, Has.Length.EqualTo(5));
        });
    }

    [Test]
    public void SixtyReportsAMinuteThenTheRestAreCountedAndSaidLater()
    {
        var pfns = Enumerable.Range(0, 64).Select(_ => _buddy.AllocPages(0, GfpFlags.GFP_KERNEL, PageOwnerKind.Kernel)).ToArray();
        foreach (var pfn in pfns)
            _frames[pfn].Flags |= PageFlags.PG_reserved;
        foreach (var pfn in pfns[..63])
            _buddy.FreePages(pfn, 0);
        Assert.That(Lines.Count(l => l.StartsWith("BUG: Bad page state in process", StringComparison.Ordinal)), Is.EqualTo(60), "a burst of 60");
        _log.Jiffies += 60 * KernelLog.HZ;
        _buddy.FreePages(pfns[63], 0);
        Assert.Multiple(() =>
        {
            Assert.That(Lines[^5], Is.EqualTo("BUG: Bad page state: 3 messages suppressed"));
            Assert.That(Lines[^4], Does.StartWith("BUG: Bad page state in process swapper/0  pfn:"));
            Assert.That(_log.Taints, Does.Contain('B'));
            Assert.That(pfns.All(p => _frames.Peek(p).OwnerKind == PageOwnerKind.BadPage), Is.True, "suppressed or not, every bad page is leaked");
        });
    }
}
