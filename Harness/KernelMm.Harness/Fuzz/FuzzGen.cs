using FsCheck;
using FsCheck.Fluent;
using KernelMm.Model.Boot;

namespace KernelMm.Harness.Fuzz;

/// <summary>
/// FsCheck generators and shrinkers of random workloads: every call of the scenario API,
/// over random ranges of a small arena (aligned, unaligned, overlapping, past the address
/// space), on small machines of every boot configuration, so that a few dozen calls reach
/// table boundaries, OOM and the patches' paths.
/// </summary>
public static class FuzzGen
{
    // Ranges mostly start on one of a few 2 MiB slots of the arena (so calls meet the
    // mappings earlier calls made), some a few pages in, some anywhere; one slot boundary is
    // the pgd boundary in the middle of the arena.
    private static Gen<int> Offset { get; } = Gen.Frequency(
        (6, Gen.Choose(6, 9).Select(x => x * 512)),
        (3, from x in Gen.Choose(6, 9) from d in Gen.Choose(1, 40) select x * 512 + d),
        (1, Gen.Choose(0, FuzzExecutor.ArenaPages - 1)));

    private static Gen<int> Pages { get; } = Gen.Frequency(
        (4, Gen.Choose(1, 16)),
        (4, Gen.Elements(512, 1024, 1536)),
        (2, Gen.Choose(1, 1024)),
        (1, Gen.Choose(0, 2)),
        (1, Gen.Choose(1024, FuzzExecutor.ArenaPages)));

    private static Gen<int> RangeFlags { get; } = Gen.Frequency((14, Gen.Constant(0)), (1, Gen.Choose(0, 15)));

    private static Gen<int> Prot { get; } = Gen.Frequency((6, Gen.Constant(3)), (2, Gen.Choose(0, 7)));

    private static Gen<int> Handle { get; } = Gen.Frequency((6, Gen.Constant(0)), (3, Gen.Choose(1, 3)), (1, Gen.Choose(0, 7)));

    private static Gen<FuzzStep> Range(FuzzCall call, Gen<int> c) =>
        from t in Handle
        from a in Offset
        from b in Pages
        from cc in c
        from d in RangeFlags
        select new FuzzStep(call, t, a, b, cc, d);

    public static Gen<FuzzStep> Step { get; } = Gen.Frequency(
        (2, from t in Handle from a in Gen.Choose(0, 1) select new FuzzStep(FuzzCall.Spawn, t, a)),
        (3, Handle.Select(t => new FuzzStep(FuzzCall.Fork, t))),
        (2, Handle.Select(t => new FuzzStep(FuzzCall.Exit, t))),
        (8, from t in Handle
            from a in Offset
            from b in Pages
            from c in Prot
            from d in Gen.Frequency((8, Gen.Constant(1)), (3, Gen.Constant(0)), (1, Gen.Choose(0, 15)))
            select new FuzzStep(FuzzCall.Mmap, t, a, b, c, d)),
        (4, Range(FuzzCall.Munmap, Gen.Constant(0))),
        (4, Range(FuzzCall.Mprotect, Prot)),
        (3, Range(FuzzCall.MadviseDontNeed, Gen.Constant(0))),
        (3, Range(FuzzCall.MadviseFree, Gen.Constant(0))),
        (4, Range(FuzzCall.TouchRead, Gen.Choose(0, 3))),
        (7, Range(FuzzCall.TouchWrite, Gen.Choose(0, 3))),
        (1, from t in Handle
            from a in Gen.Frequency((8, Gen.Choose(1, 8192)), (1, Gen.Elements(0, -1, 8193)))
            select new FuzzStep(FuzzCall.ModifyLdt, t, a)),
        (4, from a in Gen.Choose(0, 6)
            from b in Gen.Choose(0, 1 << 20)
            from c in Gen.Frequency((5, Gen.Choose(1, 4)), (3, Gen.Choose(1, 512)), (1, Gen.Choose(0, 2048)))
            from d in Gen.Frequency((10, Gen.Constant(0)), (1, Gen.Constant(2)))
            select new FuzzStep(FuzzCall.SetMemory, 0, a, b, c, d)),
        (2, from a in Gen.Frequency((5, Gen.Choose(1, 16)), (2, Gen.Choose(1, 600)), (1, Gen.Constant(0)))
            from d in Gen.Elements(0, 4)
            select new FuzzStep(FuzzCall.Vmalloc, 0, a, 0, 0, d)),
        (2, Handle.Select(t => new FuzzStep(FuzzCall.Vfree, t))),
        (2, from a in Gen.Choose(1, 40) from b in Gen.Choose(0, 10) select new FuzzStep(FuzzCall.LoadModule, 0, a, b)),
        (2, Handle.Select(t => new FuzzStep(FuzzCall.UnloadModule, t))),
        (3, Gen.Constant(new FuzzStep(FuzzCall.MemcgCreate))),
        // cgroup.procs writes: Target the process, A the cgroup.
        (5, from t in Handle from a in Handle select new FuzzStep(FuzzCall.MemcgAttach, t, a)),
        // memory.move_charge_at_immigrate: mostly MOVE_ANON, now and then 0, MOVE_FILE or a bad value.
        (3, from t in Handle from a in Gen.Frequency((6, Gen.Elements(1, 3)), (2, Gen.Constant(0)), (1, Gen.Elements(2, 4, -1))) select new FuzzStep(FuzzCall.MemcgMoveCharge, t, a)),
        (1, Handle.Select(t => new FuzzStep(FuzzCall.MemcgRmdir, t))),
        (2, Gen.Constant(new FuzzStep(FuzzCall.Reclaim))),
        (3, Handle.Select(t => new FuzzStep(FuzzCall.FreePtes, t))),
        (2, Gen.Frequency((8, Gen.Choose(0, 3)), (2, Gen.Choose(4, 10)), (1, Gen.Elements(-1, 11))).Select(a => new FuzzStep(FuzzCall.AllocPages, 0, a))),
        (2, Handle.Select(t => new FuzzStep(FuzzCall.FreePages, t))),
        (1, Gen.Constant(new FuzzStep(FuzzCall.Reboot))));

    public static Gen<BootOptions> Boot { get; } =
        from mem in Gen.Elements(64L << 20, 128L << 20, 256L << 20)
        from cpus in Gen.Choose(1, 4)
        from gb in Gen.Elements(true, false)
        from pti in Gen.Elements(true, false)
        from protect in Gen.Frequency((2, Gen.Constant(false)), (1, Gen.Constant(true)))
        select new BootOptions(mem, cpus, gb, pti, protect);

    /// <summary>A workload of up to <paramref name="maxSteps"/> calls (growing with FsCheck's size), starting with a process.</summary>
    public static Gen<FuzzProgram> Program(int maxSteps) =>
        from boot in Boot
        from n in Gen.Sized(size => Gen.Choose(1, Math.Clamp(size, 1, maxSteps)))
        from steps in Gen.ListOf(Step, n)
        select new FuzzProgram(boot, [new FuzzStep(FuzzCall.Spawn), .. steps]);

    public static Arbitrary<FuzzProgram> Arbitrary(int maxSteps) => Arb.From(Program(maxSteps), Shrink);

    /// <summary>
    /// Shorter first (halves, quarters ... single calls removed), then simpler calls (no odd
    /// flags, shorter ranges, offset 0), then a simpler machine.
    /// </summary>
    public static IEnumerable<FuzzProgram> Shrink(FuzzProgram p)
    {
        var steps = p.Steps;
        for (int size = steps.Count / 2; size >= 1; size /= 2)
            for (int start = 0; start + size <= steps.Count; start += size)
                yield return p.With(steps.Take(start).Concat(steps.Skip(start + size)));
        for (int i = 0; i < steps.Count; i++)
            foreach (var s in ShrinkStep(steps[i]))
                yield return p.With(steps.Select((x, j) => j == i ? s : x));
        var b = p.Boot;
        if (b.Cpus > 1)
            yield return p with { Boot = b with { Cpus = 1 } };
        if (b.MemoryBytes > 64L << 20)
            yield return p with { Boot = b with { MemoryBytes = 64L << 20 } };
        if (b.ProtectPageTables)
            yield return p with { Boot = b with { ProtectPageTables = false } };
        if (b.Pti)
            yield return p with { Boot = b with { Pti = false } };
        if (!b.GbPages)
            yield return p with { Boot = b with { GbPages = true } };
    }

    private static IEnumerable<FuzzStep> ShrinkStep(FuzzStep s)
    {
        if (s.D != 0)
            yield return s with { D = s.Call == FuzzCall.Mmap ? s.D & 1 : 0 };
        if (s.Target != 0)
            yield return s with { Target = 0 };
        if (s.B > 1)
            yield return s with { B = s.B / 2 };
        if (s.A > 0 && s.Call is not (FuzzCall.SetMemory or FuzzCall.ModifyLdt))
            yield return s with { A = s.A / 2 };
        if (s.Call == FuzzCall.ModifyLdt && s.A > 1)
            yield return s with { A = s.A / 2 };
        if (s.C != 0 && s.Call is not (FuzzCall.Mmap or FuzzCall.Mprotect))
            yield return s with { C = s.C / 2 };
    }
}
