using KernelMm.Model;
using KernelMm.Model.Boot;

namespace KernelMm.Patches.Tests;

/// <summary>Kernels booted with chosen patches applied, for the patches' unit tests.</summary>
internal static class PatchedKernel
{
    public static Kernel Boot(BootOptions? options = null, params IPatch[] patches) =>
        new(options ?? new BootOptions(), k =>
        {
            foreach (var p in patches.OrderBy(p => p.Order))
                p.Apply(k);
        });
}
