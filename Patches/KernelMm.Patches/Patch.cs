using KernelMm.Model;

namespace KernelMm.Patches;

/// <summary>
/// Base class for a patch file: the metadata as constructor arguments, the hooks in
/// <see cref="Apply"/>. A new patch is one subclass in its own file plus one line in
/// <see cref="PostedSeries"/> (or <see cref="LandedSeries"/>).
/// </summary>
public abstract class Patch(string id, int order, string title, string posted, string changes) : IPatch
{
    public string Id { get; } = PatchId.Validate(id);
    public int Order { get; } = order;
    public string Title { get; } = title;
    public string Posted { get; } = posted;
    public string Changes { get; } = changes;

    public abstract void Apply(Kernel k);

    public override string ToString() => $"{Order} {Id}: {Title}";
}
