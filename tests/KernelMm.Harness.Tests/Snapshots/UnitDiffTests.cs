using KernelMm.Harness.Snapshots;

namespace KernelMm.Harness.Tests.Snapshots;

public class UnitDiffTests
{
    private static readonly string[] Loaded =
        ["MemTotal:        4100852 kB", "MemFree:         4099180 kB", "AnonPages:             0 kB", "PageTables:            0 kB"];

    [Test]
    public void A_changed_counter_is_its_new_line_alone()
    {
        string[] end = [.. Loaded];
        end[1] = "MemFree:         4099520 kB";
        end[3] = "PageTables:           12 kB";
        var diff = UnitDiff.Diff(Loaded, end);
        Assert.That(diff, Is.EqualTo(new[] { "MemFree:         4099520 kB", "PageTables:           12 kB" }));
        Assert.That(UnitDiff.Apply(Loaded, diff), Is.EqualTo(end));
    }

    [Test]
    public void Status_lines_by_name_then_the_page_table_dump_as_hunks()
    {
        string[] before = ["VmRSS:           4 kB", "VmPTE:          12 kB", "user page tables:", "0x0000000000000000-0x00007f8000000000      130560G                               pgd"];
        string[] after = ["VmRSS:        4100 kB", "VmPTE:          16 kB", "user page tables:", "0x0000000000000000-0x00007f0000000000      130048G                               pgd",
            "0x00007f0000000000-0x00007f8000000000         512G                               pud"];
        var diff = UnitDiff.Diff(before, after);
        Assert.That(diff, Is.EqualTo(new[] { "VmRSS:        4100 kB", "VmPTE:          16 kB", "@@ -4 +4,2 @@", "+" + after[3], "+" + after[4] }));
        Assert.That(UnitDiff.Apply(before, diff), Is.EqualTo(after));
    }

    [Test]
    public void An_added_counter_is_a_hunk_and_a_name_repeated_in_the_section_is_not_replaced_by_name()
    {
        string[] vmstat = ["nr_free_pages 1", "nr_kernel_stack 16"];
        string[] with = ["nr_free_pages 1", "nr_kernel_stack 16", "nr_overhead 260"];
        Assert.That(UnitDiff.Diff(vmstat, with), Is.EqualTo(new[] { "@@ -2,0 +3 @@", "+nr_overhead 260" }));
        // Two memcgs each have memory.usage_in_bytes: a line cannot say which one it replaces.
        string[] memcg = ["##### memcg a", "memory.usage_in_bytes 4096", "##### memcg b", "memory.usage_in_bytes 8192"];
        string[] later = ["##### memcg a", "memory.usage_in_bytes 4096", "##### memcg b", "memory.usage_in_bytes 0"];
        Assert.That(UnitDiff.Diff(memcg, later), Is.EqualTo(new[] { "@@ -4 +4 @@", "+memory.usage_in_bytes 0" }));
        Assert.That(UnitDiff.Apply(memcg, UnitDiff.Diff(memcg, later)), Is.EqualTo(later));
    }

    [Test]
    public void A_line_naming_nothing_in_the_section_is_refused()
    {
        Assert.That(() => UnitDiff.Apply(Loaded, ["SwapFree:        0 kB"]), Throws.TypeOf<FormatException>().With.Message.Contains("has no line 'SwapFree:'"));
        Assert.That(() => UnitDiff.Apply(Loaded, ["0x0000-0x1000 4K pte"]), Throws.TypeOf<FormatException>().With.Message.Contains("neither a counter line nor a hunk header"));
    }

    [TestCase("MemFree:         4099180 kB", "MemFree:")]
    [TestCase("VmPTE:         148 kB", "VmPTE:")]
    [TestCase("nr_free_pages 1024839", "nr_free_pages")]
    [TestCase("memory.stat pagetables 12288", "memory.stat pagetables")]
    [TestCase("0xffff888000000000-0xffff888000200000           2M     RW         PSE         NX pmd", null)]
    [TestCase("---[ User Space ]---", null)]
    [TestCase("x86/mm: Checked W+X mappings: passed, no W+X pages found.", null)]
    [TestCase("after free_ptes: VmPTE kB = 20", "after free_ptes: VmPTE kB =")]
    [TestCase("@@ x = 1", null)]
    public void Names(string line, string? name) => Assert.That(UnitDiff.Name(line), Is.EqualTo(name));
}
