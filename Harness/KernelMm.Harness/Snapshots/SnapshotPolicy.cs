namespace KernelMm.Harness.Snapshots;

/// <summary>
/// The update mode and whether this is CI, from the environment as insta reads it: CI is
/// <c>CI</c> set to anything but empty, <c>false</c> or <c>0</c>, or else <c>TF_BUILD</c> set;
/// <c>KMM_UPDATE</c> is <c>auto</c> (the default: <c>no</c> in CI, else <c>new</c>),
/// <c>new</c>, <c>always</c> or <c>no</c>.
/// </summary>
public sealed record SnapshotPolicy(UpdateMode Mode, bool Ci)
{
    /// <summary>In CI a missing verified file already fails; an orphan fails too (locally it is only reported).</summary>
    public bool OrphansFail => Ci;

    public static SnapshotPolicy FromEnvironment() => From(Environment.GetEnvironmentVariable);

    public static SnapshotPolicy From(Func<string, string?> getenv)
    {
        bool ci = IsCi(getenv);
        return new SnapshotPolicy(ParseMode(getenv("KMM_UPDATE"), ci), ci);
    }

    public static bool IsCi(Func<string, string?> getenv) => getenv("CI") switch
    {
        null => getenv("TF_BUILD") is not null,
        "" or "false" or "0" => false,
        _ => true,
    };

    /// <summary>Throws <see cref="ArgumentException"/> for a value that is not a mode, rather than guessing.</summary>
    public static UpdateMode ParseMode(string? value, bool ci) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "auto" => ci ? UpdateMode.No : UpdateMode.New,
        "new" => UpdateMode.New,
        "always" => UpdateMode.Always,
        "no" => UpdateMode.No,
        _ => throw new ArgumentException($"KMM_UPDATE='{value}': expected auto, new, always or no"),
    };
}
