namespace KernelMm.Harness.Scripting;

/// <summary>
/// The sections a checkpoint prints (<c>Checkpoint("touched", Section.Vmstat | Section.Processes)</c>,
/// or for the whole scenario <c>SnapshotSections(...)</c>). What a script recorded and the
/// warnings (the kernel's and the invariant checks') are always printed: a finding cannot be
/// left out.
/// </summary>
[Flags]
public enum Section
{
    None = 0,

    /// <summary>/proc/vmstat counters.</summary>
    Vmstat = 1,

    /// <summary>/proc/vmstat events.</summary>
    Events = 2,

    /// <summary>/proc/meminfo.</summary>
    Meminfo = 4,

    /// <summary>Each live process's /proc/PID/status memory lines.</summary>
    Processes = 8,

    /// <summary>Each live process's user page-table dump (with <see cref="Processes"/>).</summary>
    UserPageTables = 16,

    /// <summary>Memory cgroups.</summary>
    Memcg = 32,

    /// <summary>The kernel page-table dump and the W+X check.</summary>
    KernelPageTables = 64,

    /// <summary>vmstat, events and meminfo.</summary>
    Counters = Vmstat | Events | Meminfo,

    All = Vmstat | Events | Meminfo | Processes | UserPageTables | Memcg | KernelPageTables,
}
