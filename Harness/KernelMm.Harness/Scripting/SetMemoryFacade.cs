namespace KernelMm.Harness.Scripting;

/// <summary><c>Kernel.SetMemory</c>: the kernel's set_memory_* on a number of pages from an address.</summary>
public sealed class SetMemoryFacade
{
    private readonly ScenarioRun _run;

    internal SetMemoryFacade(ScenarioRun run) => _run = run;

    private LastCallName _lastCall = new("Kernel.SetMemory.");

    private Model.Cpa.SetMemory S([System.Runtime.CompilerServices.CallerMemberName] string call = "")
    {
        string name = _lastCall.Get(call);
        _run.Meter.Op(name);
        _run.KernelCall(name);
        return _run.Kernel.SetMemory;
    }

    public void ReadOnly(ulong addr, long pages) => S().ReadOnly(addr, pages);
    public void ReadWrite(ulong addr, long pages) => S().ReadWrite(addr, pages);
    public void NoExec(ulong addr, long pages) => S().NoExec(addr, pages);
    public void Exec(ulong addr, long pages) => S().Exec(addr, pages);
    public void NotPresent(ulong addr, long pages) => S().NotPresent(addr, pages);
    public void Present(ulong addr, long pages) => S().Present(addr, pages);
    public void FourK(ulong addr, long pages) => S().FourK(addr, pages);
    public void ReadOnlyExec(ulong addr, long pages) => S().ReadOnlyExec(addr, pages);
}
