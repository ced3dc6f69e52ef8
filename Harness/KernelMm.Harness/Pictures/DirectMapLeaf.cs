using KernelMm.Model.Paging;

namespace KernelMm.Harness.Pictures;

/// <summary>
/// A run of the direct map with one leaf size and one set of marks, by physical address
/// (the direct map maps physical address P at <c>PAGE_OFFSET + P</c>).
/// </summary>
/// <param name="Phys">First physical byte.</param>
/// <param name="Size">Bytes.</param>
/// <param name="Level">The leaf size mapping it: <c>PG_LEVEL_1G</c>, <c>2M</c>, <c>4K</c>; <c>PG_LEVEL_NONE</c> where no entry maps it.</param>
/// <param name="Marks">Its attributes.</param>
public readonly record struct DirectMapLeaf(ulong Phys, ulong Size, PageLevel Level, MapMarks Marks)
{
    public ulong End => Phys + Size;
}
