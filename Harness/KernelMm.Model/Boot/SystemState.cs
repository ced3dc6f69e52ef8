namespace KernelMm.Model.Boot;

/// <summary>system_state: CPA counts direct-map split events only once the system is running.</summary>
public enum SystemState
{
    SYSTEM_BOOTING,
    SYSTEM_RUNNING,
}
