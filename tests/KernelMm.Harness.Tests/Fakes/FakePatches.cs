using KernelMm.Model;
using KernelMm.Patches;

namespace KernelMm.Harness.Tests.Fakes;

/// <summary>
/// Patches that exist only for the runner's tests: each changes the model through a real
/// seam, so combinations really differ (or really do not).
/// </summary>
public static class FakePatches
{
    /// <summary>Registers a vmstat counter: every combination with it prints one more line.</summary>
    public sealed class AddsCounter(string id, int order, string counter) : Patch(id, order, $"add {counter}", "tests, 2026", $"registers {counter} after nr_kernel_stack")
    {
        public override void Apply(Kernel k) => k.VmStat.RegisterCounter(counter, after: "nr_kernel_stack");
    }

    /// <summary>Hooks a seam with a handler that changes nothing visible: its combinations equal the base kernel's.</summary>
    public sealed class Invisible(string id, int order) : Patch(id, order, "no visible change", "tests, 2026", "hooks cpa_flush and the free path without effect")
    {
        public override void Apply(Kernel k)
        {
            k.Cpa.BeforeCpaFlush = _ => false;
            k.Buddy.FreePagesPrepareHook += (_, _) => { };
        }
    }

    /// <summary>Makes set_memory_4k set a software bit (as restore-large-pages does with _PAGE_KERNEL_4K): visible only when a scenario splits with FourK.</summary>
    public sealed class MarksFourK(string id, int order) : Patch(id, order, "mark 4k", "tests, 2026", "set_memory_4k also sets SOFTW3")
    {
        public override void Apply(Kernel k) => k.SetMemory.FourKMaskSet = 1UL << 11;
    }

    /// <summary>Counts cpa_flush calls into a vmstat counter of its own.</summary>
    public sealed class CountsCpaFlushes(string id, int order) : Patch(id, order, "count cpa flushes", "tests, 2026", "nr_cpa_flushes after nr_bounce")
    {
        public override void Apply(Kernel k)
        {
            int c = k.VmStat.RegisterCounter("nr_cpa_flushes", after: "nr_bounce");
            k.Cpa.BeforeCpaFlush = _ =>
            {
                k.VmStat.ModExtra(c, 1);
                return false;
            };
        }
    }

    public static Series Of(params IPatch[] patches) => new(patches);
}
