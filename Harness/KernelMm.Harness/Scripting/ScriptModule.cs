using KernelMm.Model;
using KernelMm.Model.Vmalloc;

namespace KernelMm.Harness.Scripting;

/// <summary>A loaded module, as <c>Kernel.LoadModule</c> returns it.</summary>
public sealed class ScriptModule
{
    private readonly ScenarioRun _run;
    private readonly Kernel _kernel;

    internal ScriptModule(ScenarioRun run, KernelModule module)
    {
        _run = run;
        _kernel = run.Kernel;
        Model = module;
    }

    /// <summary>The model's module.</summary>
    public KernelModule Model { get; }

    public Addr TextAddr => Model.TextAddr;
    public Addr DataAddr => Model.DataAddr;
    public long TextPages => Model.TextPages;
    public long DataPages => Model.DataPages;
    public bool Loaded => Model.Loaded;

    /// <summary>delete_module: vfree with the direct-map aliases reset.</summary>
    public void Unload()
    {
        _run.Meter.Op();
        _run.KernelCall("module.Unload");
        _run.CheckSameBoot(_kernel, "delete_module", Errno.ENOENT, "the module");
        Model.Unload();
    }
}
