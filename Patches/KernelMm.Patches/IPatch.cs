using KernelMm.Model;

namespace KernelMm.Patches;

/// <summary>
/// One patch of the series, as data plus the way it applies itself to a kernel. The model
/// never knows which patches exist: a patch reaches it only through the model's seams
/// (hooks, registered counters, masks), which it sets in <see cref="Apply"/>.
/// </summary>
public interface IPatch
{
    /// <summary>Short id used on the command line, in formulas and in snapshots (e.g. <c>kaiser-nr-overhead</c>).</summary>
    string Id { get; }

    /// <summary>Position in the series (1 = first); the series order is the bisect order.</summary>
    int Order { get; }

    /// <summary>The upstream subject line.</summary>
    string Title { get; }

    /// <summary>Where and when it was posted (list, tree or thread, and date).</summary>
    string Posted { get; }

    /// <summary>What it changes in the kernel, in a sentence or two.</summary>
    string Changes { get; }

    /// <summary>Hooks the freshly booted kernel's seams. Called once per kernel, in series order.</summary>
    void Apply(Kernel k);
}
