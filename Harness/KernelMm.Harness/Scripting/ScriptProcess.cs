using KernelMm.Model;
using KernelMm.Model.Mm;

namespace KernelMm.Harness.Scripting;

/// <summary>A process as <c>Spawn</c> and <c>Fork</c> return it: the model's process with each call counted.</summary>
public sealed class ScriptProcess
{
    private readonly ScenarioRun _run;
    private readonly Kernel _kernel;

    internal ScriptProcess(ScenarioRun run, Process process)
    {
        _run = run;
        _kernel = run.Kernel;
        Model = process;
        Status = new Lookup(run.Meter, $"/proc/{process.Pid}/status", StatusLines);
    }

    /// <summary>The model's process.</summary>
    public Process Model { get; }

    public int Pid => Model.Pid;
    public string Comm => Model.Comm;
    public bool Alive => Model.Alive;

    /// <summary>/proc/PID/status memory lines in kB (<c>VmPTE</c>, <c>VmRSS</c>...).</summary>
    public Lookup Status { get; }

    /// <summary>Anonymous private mmap; returns the address. <paramref name="at"/> alone is MAP_FIXED (replacing); <see cref="MapFlags"/> adds MAP_NORESERVE, MAP_POPULATE, MAP_LOCKED, MAP_FIXED_NOREPLACE.</summary>
    public ulong Mmap(long length, Prot prot = Prot.Read | Prot.Write, ulong? at = null, MapFlags flags = MapFlags.None)
    {
        Op("mmap");
        return Model.Mmap(length, prot, at, flags);
    }

    public void Munmap(ulong addr, long length)
    {
        Op("munmap");
        Model.Munmap(addr, length);
    }

    public void Mprotect(ulong addr, long length, Prot prot)
    {
        Op("mprotect");
        Model.Mprotect(addr, length, prot);
    }

    public void Madvise(ulong addr, long length, Advice advice)
    {
        Op("madvise");
        Model.Madvise(addr, length, advice);
    }

    /// <summary>Accesses every <paramref name="stride"/> bytes of the range from user mode, faulting pages in.</summary>
    public void Touch(ulong addr, long length, Access access, long stride = 4096)
    {
        Op("touch");
        Model.Touch(addr, length, access, stride);
    }

    public ScriptProcess Fork(string name)
    {
        Op("fork");
        return new ScriptProcess(_run, Model.Fork(name));
    }

    public void ModifyLdt(int entries)
    {
        Op("modify_ldt");
        Model.ModifyLdt(entries);
    }

    public void Exit()
    {
        Op("exit");
        Model.Exit();
    }

    public override string ToString() => Model.ToString();

    private void Op(string call)
    {
        _run.Meter.Op();
        _run.CheckSameBoot(_kernel, call, Errno.ESRCH, $"process {Pid} ({Comm})");
    }

    // /proc/PID/status of a task that exited (or of an earlier boot) is gone, as the task is: ESRCH like every other call.
    private IEnumerable<(string Name, long Value)> StatusLines()
    {
        string file = $"/proc/{Pid}/status";
        _run.CheckSameBoot(_kernel, file, Errno.ESRCH, $"process {Pid} ({Comm})");
        if (!Model.Alive)
            throw new KernelErrnoException(file, Errno.ESRCH, $"process {Pid} ({Comm}) has exited");
        return Model.StatusLines();
    }
}
