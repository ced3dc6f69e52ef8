using KernelMm.Model.Boot;
using KernelMm.Model.Mm;
using KernelMm.Model.Stats;

namespace KernelMm.Patches.Tests;

public class KaiserNrOverheadTests
{
    private static long Overhead(Model.Kernel k) => k.VmStat[KaiserNrOverhead.VmstatName];

    [Test]
    public void BootCountsThe256SharedPudTablesAndTheEarlyUserMappings()
    {
        var k = PatchedKernel.Boot(null, new KaiserNrOverhead());
        Assert.Multiple(() =>
        {
            Assert.That(Overhead(k), Is.EqualTo(k.Kaiser!.TablesInstalled));
            Assert.That(Overhead(k), Is.GreaterThan(256));
            Assert.That(k.RunChecks(), Is.Empty);
        });
    }

    [Test]
    public void TheLineFollowsNrKernelStackAndIsZeroWithoutPti()
    {
        var k = PatchedKernel.Boot(new BootOptions(Pti: false), new KaiserNrOverhead());
        var names = k.VmStat.Lines().Select(l => l.Name).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(names[names.IndexOf("nr_kernel_stack") + 1], Is.EqualTo("nr_overhead"));
            Assert.That(names[names.IndexOf("nr_overhead") + 1], Is.EqualTo("nr_bounce"));
            Assert.That(Overhead(k), Is.Zero);
            Assert.That(VmStat.NamesInLockstep(out _), Is.True);
        });
    }

    [Test]
    public void WithoutThePatchThereIsNoLine()
    {
        var k = PatchedKernel.Boot();
        Assert.That(k.VmStat.TryGet("nr_overhead", out _), Is.False);
        Assert.That(k.VmStat.Lines().Select(l => l.Name), Is.Unique);
    }

    [Test]
    public void ItRisesOnlyForNewStackRegionsAndNeverFalls()
    {
        var k = PatchedKernel.Boot(null, new KaiserNrOverhead());
        long boot = Overhead(k);
        var first = Enumerable.Range(0, 200).Select(i => k.Spawn($"t{i}")).ToList();
        long afterFirst = Overhead(k);
        foreach (var p in first)
            p.Exit();
        Assert.That(Overhead(k), Is.EqualTo(afterFirst), "exits free no shadow table");
        var second = Enumerable.Range(0, 200).Select(i => k.Spawn($"u{i}")).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(afterFirst, Is.GreaterThan(boot), "new 2M regions of stack tops needed PTE tables");
            Assert.That(Overhead(k), Is.EqualTo(afterFirst), "the second storm reuses the same stack pages and tables");
            Assert.That(k.RunChecks(), Is.Empty);
        });
        foreach (var p in second)
            p.Exit();
    }

    [Test]
    public void EachInstalledTableCountsAndALosingRaceDoesNot()
    {
        var k = PatchedKernel.Boot(null, new KaiserNrOverhead());
        long before = Overhead(k);
        var area = k.Vmalloc.Vmalloc(4096);
        k.Kaiser!.AddMapping(area.Addr, 4096, Model.Paging.PageBits.__PAGE_KERNEL);
        Assert.That(Overhead(k) - before, Is.EqualTo(2), "a PMD and a PTE table were installed in the vmalloc region");

        // Another CPU installs the PTE table while this walk's allocation is outside the lock.
        before = Overhead(k);
        var other = k.Vmalloc.Vmalloc(4L << 20);
        ulong target = other.Addr + (2UL << 20);
        k.Kaiser.RaceBeforeInstall = addr =>
        {
            var e = k.Walker.LookupAddress(k.Image.InitShadowPgtPfn, addr);
            var t = k.Tables[e.TablePfn];
            if (t[e.Index] == 0 && e.Level == Model.Paging.PageLevel.PG_LEVEL_2M)
            {
                long pfn = k.Buddy.AllocPages(0, Model.Memory.GfpFlags.GFP_KERNEL, Model.Memory.PageOwnerKind.KaiserTable);
                k.Tables.Create(pfn);
                t[e.Index] = Model.Paging.PageBits.mk_table(pfn, Model.Paging.PageBits._KERNPG_TABLE);
            }
        };
        k.Kaiser.AddMapping(target, 4096, Model.Paging.PageBits.__PAGE_KERNEL);
        k.Kaiser.RaceBeforeInstall = null;
        Assert.That(Overhead(k) - before, Is.Zero, "the racing CPU's table is not counted by this walk; the loser's page is freed");
        // The table the test installed by hand stands for a walk that forgot to count: the check sees it.
        Assert.That(k.RunChecks().Select(w => (w.Kind, w.Message)), Has.One.EqualTo(("pt-accounting", $"nr_overhead is {Overhead(k)} but the shadow pgd reaches {Overhead(k) + 1} KAISER tables")));
    }

    [Test]
    public void LargeLdtsAddVmallocShadowTables()
    {
        var k = PatchedKernel.Boot(null, new KaiserNrOverhead());
        long before = Overhead(k);
        var ps = Enumerable.Range(0, 4).Select(i => k.Spawn($"ldt{i}")).ToList();
        foreach (var p in ps)
            p.ModifyLdt(8192);
        long grown = Overhead(k);
        foreach (var p in ps)
            p.Exit();
        Assert.Multiple(() =>
        {
            Assert.That(grown, Is.GreaterThan(before));
            Assert.That(Overhead(k), Is.EqualTo(grown));
            Assert.That(k.Kaiser!.DumpShadow().Text, Does.Contain("---[ vmalloc() Area ]---"));
        });
    }
}
