using KernelMm.Harness.Matrix;
using KernelMm.Harness.Scripting;
using KernelMm.Model;
using KernelMm.Model.Mm;
using KernelMm.Patches;

namespace KernelMm.Harness.Tests.Scripting;

/// <summary>
/// Every public scenario-API call fed what a script could get wrong (negative, zero,
/// unaligned, beyond the address space, huge counts, after Exit, after a later Boot), under
/// the base kernel and the whole series: each gets the kernel's errno or a clear error that
/// names the mistake, never an exception from the model's insides, and never a hang (the
/// operation budget stops a huge call).
/// </summary>
public class BoundaryTests
{
    private const long MiB = 1L << 20;
    private const ulong Beyond = 0x0000800000000000;

    /// <summary>What a script has when it makes the call: a booted machine, a process with a mapping, a module, a cgroup, a vmalloc area.</summary>
    public sealed class World
    {
        public World(Combination c)
        {
            Run = new ScenarioRun("boundary", c, new RunLimits(200_000, TimeSpan.FromSeconds(30)));
            G = new ScenarioGlobals(Run);
            G.Boot(256 * MiB, 2);
            Cg = G.Kernel.Memcg.Create("cg");
            P = G.Spawn("p", Cg);
            Buf = P.Mmap(4 * MiB);
            P.Touch(Buf, 4 * MiB, Access.Write);
            Module = G.Kernel.LoadModule(3 * 4096, 4096);
            Area = G.Kernel.Vmalloc(8192);
            Block = G.Kernel.AllocPages(1);
        }

        public ScenarioRun Run { get; }
        public ScenarioGlobals G { get; }
        public ScriptMemcg Cg { get; }
        public ScriptProcess P { get; }
        public ulong Buf { get; }
        public ScriptModule Module { get; }
        public ulong Area { get; }
        public long Block { get; }
        public KernelFacade K => G.Kernel;
        public ulong Direct(long pfn) => K.DirectMapAddress(pfn);

        /// <summary>The process has exited; its handle is kept.</summary>
        public ScriptProcess Exited()
        {
            P.Exit();
            return P;
        }

        /// <summary>A later Boot replaced the kernel the handles came from.</summary>
        public World Rebooted()
        {
            G.Boot(256 * MiB, 2);
            return this;
        }
    }

    private static readonly (string Name, Action<World> Call)[] Calls =
    [
        ("Boot(memory: 0)", w => w.G.Boot(0)),
        ("Boot(memory: -1)", w => w.G.Boot(-1)),
        ("Boot(memory: 65 MiB)", w => w.G.Boot(65 * MiB)),
        ("Boot(memory: 1 PiB)", w => w.G.Boot(1L << 50)),
        ("Boot(cpus: 0)", w => w.G.Boot(256 * MiB, 0)),
        ("Boot(cpus: -1)", w => w.G.Boot(256 * MiB, -1)),
        ("Boot(cpus: 100000)", w => w.G.Boot(256 * MiB, 100000)),
        ("Spawn(null)", w => w.G.Spawn(null!)),
        ("Spawn(memcg of an earlier boot)", w => { var cg = w.Cg; w.Rebooted().G.Spawn("x", cg); }),
        ("Checkpoint(null)", w => w.G.Checkpoint(null!)),
        ("Record(null, null)", w => w.G.Record(null!, null)),
        ("Mmap(-1)", w => w.P.Mmap(-1)),
        ("Mmap(0)", w => w.P.Mmap(0)),
        ("Mmap(long.MaxValue)", w => w.P.Mmap(long.MaxValue)),
        ("Mmap(unaligned at)", w => w.P.Mmap(4096, at: 0x7f0000000123)),
        ("Mmap(at: 0)", w => w.P.Mmap(4096, at: 0)),
        ("Mmap(at beyond the address space)", w => w.P.Mmap(4096, at: Beyond)),
        ("Mmap(at: ulong.MaxValue & PAGE_MASK)", w => w.P.Mmap(4096, at: 0xfffffffffffff000)),
        ("Mmap(at just below the end, past it)", w => w.P.Mmap(8192, at: 0x00007ffffffff000)),
        ("Mmap(prot: 99)", w => w.P.Mmap(4096, (Prot)99)),
        ("Mmap(prot: -1)", w => w.P.Mmap(4096, (Prot)(-1))),
        ("Munmap(unaligned)", w => w.P.Munmap(w.Buf + 1, 4096)),
        ("Munmap(negative length)", w => w.P.Munmap(w.Buf, -4096)),
        ("Munmap(zero length)", w => w.P.Munmap(w.Buf, 0)),
        ("Munmap(long.MaxValue)", w => w.P.Munmap(w.Buf, long.MaxValue)),
        ("Munmap(beyond)", w => w.P.Munmap(Beyond, 4096)),
        ("Munmap(ulong.MaxValue)", w => w.P.Munmap(0xfffffffffffff000, 4096)),
        ("Munmap(0, whole space)", w => w.P.Munmap(0, 1L << 47)),
        ("Mprotect(unaligned)", w => w.P.Mprotect(w.Buf + 1, 4096, Prot.Read)),
        ("Mprotect(negative length)", w => w.P.Mprotect(w.Buf, -1, Prot.Read)),
        ("Mprotect(long.MaxValue)", w => w.P.Mprotect(w.Buf, long.MaxValue, Prot.Read)),
        ("Mprotect(beyond)", w => w.P.Mprotect(Beyond, 4096, Prot.Read)),
        ("Mprotect(prot: 99)", w => w.P.Mprotect(w.Buf, 4096, (Prot)99)),
        ("Mprotect(hole)", w => w.P.Mprotect(0x10000000, 4096, Prot.Read)),
        ("Madvise(unaligned)", w => w.P.Madvise(w.Buf + 1, 4096, Advice.DontNeed)),
        ("Madvise(negative length)", w => w.P.Madvise(w.Buf, -1, Advice.DontNeed)),
        ("Madvise(long.MaxValue)", w => w.P.Madvise(w.Buf, long.MaxValue, Advice.Free)),
        ("Madvise(beyond)", w => w.P.Madvise(Beyond, 4096, Advice.Free)),
        ("Madvise(advice: 99)", w => w.P.Madvise(w.Buf, 4096, (Advice)99)),
        ("Madvise(advice: -1)", w => w.P.Madvise(w.Buf, 4096, (Advice)(-1))),
        ("Touch(negative length)", w => w.P.Touch(w.Buf, -1, Access.Write)),
        ("Touch(stride 0)", w => w.P.Touch(w.Buf, 4096, Access.Write, 0)),
        ("Touch(negative stride)", w => w.P.Touch(w.Buf, 4096, Access.Write, -4096)),
        ("Touch(beyond)", w => w.P.Touch(Beyond, 4096, Access.Read)),
        ("Touch(ulong.MaxValue)", w => w.P.Touch(0xffffffffffffffff, 4096, Access.Read)),
        ("Touch(long.MaxValue)", w => w.P.Touch(w.Buf, long.MaxValue, Access.Read)),
        ("Touch(access: 99)", w => w.P.Touch(w.Buf, 4096, (Access)99)),
        ("Touch(unaligned)", w => w.P.Touch(w.Buf + 3, 4096, Access.Write)),
        ("ModifyLdt(0)", w => w.P.ModifyLdt(0)),
        ("ModifyLdt(-1)", w => w.P.ModifyLdt(-1)),
        ("ModifyLdt(8193)", w => w.P.ModifyLdt(8193)),
        ("ModifyLdt(int.MaxValue)", w => w.P.ModifyLdt(int.MaxValue)),
        ("Fork(null)", w => w.P.Fork(null!)),
        ("Status[missing]", w => _ = w.P.Status["NoSuchLine"]),
        ("Status[null]", w => _ = w.P.Status[null!]),
        ("Exit then Exit", w => w.Exited().Exit()),
        ("Exit then Mmap", w => w.Exited().Mmap(4096)),
        ("Exit then Munmap", w => w.Exited().Munmap(w.Buf, 4096)),
        ("Exit then Mprotect", w => w.Exited().Mprotect(w.Buf, 4096, Prot.Read)),
        ("Exit then Madvise", w => w.Exited().Madvise(w.Buf, 4096, Advice.DontNeed)),
        ("Exit then Touch", w => w.Exited().Touch(w.Buf, 4096, Access.Read)),
        ("Exit then Fork", w => w.Exited().Fork("c")),
        ("Exit then ModifyLdt", w => w.Exited().ModifyLdt(1)),
        ("Exit then Status", w => _ = w.Exited().Status["VmRSS"]),
        ("Exit then free_ptes", w => w.K.Sysctl.Write("vm.free_ptes", w.Exited().Pid)),
        ("Boot then Mmap", w => w.Rebooted().P.Mmap(4096)),
        ("Boot then Munmap", w => w.Rebooted().P.Munmap(w.Buf, 4096)),
        ("Boot then Touch", w => w.Rebooted().P.Touch(w.Buf, 4096, Access.Write)),
        ("Boot then Fork", w => w.Rebooted().P.Fork("c")),
        ("Boot then Exit", w => w.Rebooted().P.Exit()),
        ("Boot then Status", w => _ = w.Rebooted().P.Status["VmRSS"]),
        ("Boot then Unload", w => w.Rebooted().Module.Unload()),
        ("Boot then memcg Usage", w => _ = w.Rebooted().Cg.Usage),
        ("Boot then memcg KmemUsage", w => _ = w.Rebooted().Cg.KmemUsage),
        ("Boot then memcg Stat", w => _ = w.Rebooted().Cg.Stat["kernel"]),
        ("Boot then Vfree", w => w.Rebooted().K.Vfree(w.Area)),
        ("Boot then FreePages", w => w.Rebooted().K.FreePages(w.Block, 1)),
        ("Unload then Unload", w => { w.Module.Unload(); w.Module.Unload(); }),
        ("SetMemory(0 pages)", w => w.K.SetMemory.ReadOnly(w.Direct(1000), 0)),
        ("SetMemory(-1 pages)", w => w.K.SetMemory.ReadOnly(w.Direct(1000), -1)),
        ("SetMemory(long.MaxValue pages)", w => w.K.SetMemory.NotPresent(w.Direct(1000), long.MaxValue)),
        ("SetMemory(huge pages)", w => w.K.SetMemory.FourK(w.Direct(1000), 1L << 40)),
        ("SetMemory(address 0)", w => w.K.SetMemory.ReadOnly(0, 1)),
        ("SetMemory(user address)", w => w.K.SetMemory.ReadOnly(w.Buf, 1)),
        ("SetMemory(unaligned)", w => w.K.SetMemory.ReadOnly(w.Direct(1000) + 5, 1)),
        ("SetMemory(beyond RAM)", w => w.K.SetMemory.ReadOnly(w.Direct(1L << 30), 4)),
        ("SetMemory(ulong.MaxValue)", w => w.K.SetMemory.Exec(0xfffffffffffff000, 2)),
        ("SetMemory(vmalloc hole)", w => w.K.SetMemory.ReadOnly(0xffffc90000000000 + (1UL << 40), 1)),
        ("SetMemory(Present of pages never NotPresent)", w => w.K.SetMemory.Present(w.Direct(1000), 3)),
        ("DirectMapAddress(-1)", w => w.K.DirectMapAddress(-1)),
        ("DirectMapAddress(long.MaxValue)", w => w.K.DirectMapAddress(long.MaxValue)),
        ("AllocPages(-1)", w => w.K.AllocPages(-1)),
        ("AllocPages(11)", w => w.K.AllocPages(11)),
        ("AllocPages(int.MaxValue)", w => w.K.AllocPages(int.MaxValue)),
        ("AllocPages until ENOMEM", w => { while (true) w.K.AllocPages(10); }),
        ("FreePages(-1)", w => w.K.FreePages(-1)),
        ("FreePages(long.MaxValue)", w => w.K.FreePages(long.MaxValue)),
        ("FreePages(order -1)", w => w.K.FreePages(w.Block, -1)),
        ("FreePages(order 11)", w => w.K.FreePages(w.Block, 11)),
        ("FreePages(a free page)", w => w.K.FreePages(w.Block + 100)),
        ("FreePages twice", w => { w.K.FreePages(w.Block, 1); w.K.FreePages(w.Block, 1); }),
        ("FreePages(wrong order)", w => w.K.FreePages(w.Block, 3)),
        ("Vmalloc(0)", w => w.K.Vmalloc(0)),
        ("Vmalloc(-1)", w => w.K.Vmalloc(-1)),
        ("Vmalloc(long.MaxValue)", w => w.K.Vmalloc(long.MaxValue)),
        ("Vmalloc(1 TiB)", w => w.K.Vmalloc(1L << 40)),
        ("Vfree(0)", w => w.K.Vfree(0)),
        ("Vfree(not an area)", w => w.K.Vfree(0xffffc90000000000)),
        ("Vfree twice", w => { w.K.Vfree(w.Area); w.K.Vfree(w.Area); }),
        ("Vfree(inside an area)", w => w.K.Vfree(w.Area + 4096)),
        ("Vfree(module text)", w => w.K.Vfree(w.Module.TextAddr)),
        ("LoadModule(0, 0)", w => w.K.LoadModule(0, 0)),
        ("LoadModule(-1, 0)", w => w.K.LoadModule(-1, 0)),
        ("LoadModule(0, -1)", w => w.K.LoadModule(4096, -1)),
        ("LoadModule(long.MaxValue)", w => w.K.LoadModule(long.MaxValue, 0)),
        ("LoadModule(huge data)", w => w.K.LoadModule(4096, long.MaxValue)),
        ("Sysctl.Write(missing)", w => w.K.Sysctl.Write("vm.nope", 1)),
        ("Sysctl.Write(null)", w => w.K.Sysctl.Write(null!, 1)),
        ("Sysctl.Write(free_ptes, -1)", w => w.K.Sysctl.Write("vm.free_ptes", -1)),
        ("Sysctl.Write(free_ptes, long.MaxValue)", w => w.K.Sysctl.Write("vm.free_ptes", long.MaxValue)),
        ("Memcg.Create(null)", w => w.K.Memcg.Create(null!)),
        ("Memcg.Create(\"\")", w => w.K.Memcg.Create("")),
        ("Memcg.Create(twice)", w => { w.K.Memcg.Create("dup"); w.K.Memcg.Create("dup"); }),
        ("Memcg.Create(with a slash)", w => w.K.Memcg.Create("a/b")),
        ("Memcg Stat[missing]", w => _ = w.Cg.Stat["nope"]),
        ("Vmstat[missing]", w => _ = w.K.Vmstat["nope"]),
        ("Meminfo[missing]", w => _ = w.K.Meminfo["nope"]),
        ("Events[null]", w => _ = w.K.Events[null!]),
        ("Reclaim after everything exited", w => { w.Exited(); w.K.Reclaim(); }),
    ];

    public static IEnumerable<TestCaseData> Cases() =>
        from c in Calls
        from mask in new[] { 0, Series.Posted.CombinationCount - 1 }
        select new TestCaseData(c.Name, mask).SetName($"{c.Name} [{(mask == 0 ? "none" : "all")}]");

    /// <summary>What a script may be told: the kernel's errno, a clear argument error, a budget stop, a missing name.</summary>
    private static bool Clear(Exception e) => e is KernelErrnoException or ArgumentException or ScenarioLimitException or OperationBudgetExceededException
        || e is KeyNotFoundException k && k.Message.Contains(" has no '", StringComparison.Ordinal);

    [TestCaseSource(nameof(Cases))]
    public void AnOutOfRangeCallGetsTheKernelsAnswerOrAClearError(string name, int mask)
    {
        var call = Calls.Single(c => c.Name == name).Call;
        var world = new World(Series.Posted.Combination(mask));
        var task = Task.Run(() =>
        {
            try
            {
                call(world);
                return null;
            }
            catch (Exception e)
            {
                return e;
            }
        });
        Assert.That(task.Wait(TimeSpan.FromSeconds(20)), Is.True, $"{name} did not return");
        var error = task.Result;
        if (error is null)
            return;
        TestContext.Out.WriteLine($"{error.GetType().Name}: {error.Message}");
        Assert.That(Clear(error), Is.True, $"{name}: {error.GetType().Name}: {error.Message}\n{error.StackTrace}");
        Assert.That(error.Message, Is.Not.Empty);
    }
}
