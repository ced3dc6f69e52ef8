using KernelMm.Model;

namespace KernelMm.Patches;

/// <summary>
/// A patch of the upstream series: what was merged in place of a posted patch. Besides the
/// metadata of every patch it says which posted patch it descends from, the release it
/// was merged in and its commit, so a reader can put it beside its posting.
/// </summary>
public abstract class Descendant(string id, int order, string title, string merged, string commit, string of, string changes)
    : Patch(id, order, title, posted: $"merged in {merged}, commit {commit}", changes)
{
    /// <summary>The release that first shipped it (<c>v6.14</c>).</summary>
    public string Merged { get; } = merged;

    /// <summary>The merged commit (12 hex digits) and, where there are more, its companions.</summary>
    public string Commit { get; } = commit;

    /// <summary>The id of the posted patch it descends from (a patch of <see cref="PostedSeries"/>).</summary>
    public string Of { get; } = of;

    public abstract override void Apply(Kernel k);
}
