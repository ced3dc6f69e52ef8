using KernelMm.Model.Mm;

namespace KernelMm.Harness.Scripting;

/// <summary>A process as <c>Spawn</c> and <c>Fork</c> return it: the model's process with each call counted.</summary>
public sealed class ScriptProcess
{
    private readonly ScenarioRun _run;

    internal ScriptProcess(ScenarioRun run, Process process)
    {
        _run = run;
        Model = process;
        Status = new Lookup(run.Meter, $"/proc/{process.Pid}/status", () => Model.StatusLines());
    }

    /// <summary>The model's process.</summary>
    public Process Model { get; }

    public int Pid => Model.Pid;
    public string Comm => Model.Comm;
    public bool Alive => Model.Alive;

    /// <summary>/proc/PID/status memory lines in kB (<c>VmPTE</c>, <c>VmRSS</c>...).</summary>
    public Lookup Status { get; }

    /// <summary>Anonymous private mmap; returns the address.</summary>
    public ulong Mmap(long length, Prot prot = Prot.Read | Prot.Write, ulong? at = null)
    {
        Op();
        return Model.Mmap(length, prot, at);
    }

    public void Munmap(ulong addr, long length)
    {
        Op();
        Model.Munmap(addr, length);
    }

    public void Mprotect(ulong addr, long length, Prot prot)
    {
        Op();
        Model.Mprotect(addr, length, prot);
    }

    public void Madvise(ulong addr, long length, Advice advice)
    {
        Op();
        Model.Madvise(addr, length, advice);
    }

    /// <summary>Accesses every <paramref name="stride"/> bytes of the range from user mode, faulting pages in.</summary>
    public void Touch(ulong addr, long length, Access access, long stride = 4096)
    {
        Op();
        Model.Touch(addr, length, access, stride);
    }

    public ScriptProcess Fork(string name)
    {
        Op();
        return new ScriptProcess(_run, Model.Fork(name));
    }

    public void ModifyLdt(int entries)
    {
        Op();
        Model.ModifyLdt(entries);
    }

    public void Exit()
    {
        Op();
        Model.Exit();
    }

    public override string ToString() => Model.ToString();

    private void Op() => _run.Meter.Op();
}
