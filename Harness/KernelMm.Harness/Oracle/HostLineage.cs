using static KernelMm.Harness.Oracle.HostLibc;

namespace KernelMm.Harness.Oracle;

/// <summary>
/// The pipes a spawned agent and all its fork descendants will use. A file descriptor made
/// after an agent's fork never reaches it, so each lineage gets its pipes before its first
/// agent forks, and each replayed fork takes the next pair.
/// </summary>
internal sealed unsafe class HostLineage : IDisposable
{
    /// <summary>Replayed forks one spawned process and its descendants can make.</summary>
    public const int MaxForks = 64;

    private readonly List<int> _fds = [];
    private readonly Queue<(int CmdRd, int CmdWr, int ResRd, int ResWr)> _free = new();

    public HostLineage()
    {
        for (int i = 0; i < MaxForks; i++)
            _free.Enqueue(NewPair());
        Root = NewPair();
    }

    public (int CmdRd, int CmdWr, int ResRd, int ResWr) Root { get; }

    public (int CmdRd, int CmdWr, int ResRd, int ResWr) TakePipes() =>
        _free.Count > 0 ? _free.Dequeue()
            : throw new OracleHostException($"more than {MaxForks} forks from one spawned process: not replayed");

    private (int, int, int, int) NewPair()
    {
        int* cmd = stackalloc int[2];
        int* res = stackalloc int[2];
        if (Pipe2(cmd, O_CLOEXEC) != 0 || Pipe2(res, O_CLOEXEC) != 0)
            throw new OracleHostException($"pipe2 failed (errno {Errno})");
        _fds.AddRange([cmd[0], cmd[1], res[0], res[1]]);
        return (cmd[0], cmd[1], res[0], res[1]);
    }

    public void Dispose()
    {
        foreach (int fd in _fds)
            _ = Close(fd);
        _fds.Clear();
    }
}
