using System.Numerics;

namespace KernelMm.Harness.Outcomes;

/// <summary>
/// A product term over toggles: bit i of <see cref="Care"/> says the term constrains toggle
/// i, and bit i of <see cref="Value"/> then says it must be on (<c>a</c>) or off (<c>!a</c>).
/// The empty term (no care bits) is <c>all</c>.
/// </summary>
public readonly record struct Cube(int Care, int Value)
{
    public bool Covers(int combination) => (combination & Care) == Value;

    public int Literals => BitOperations.PopCount((uint)Care);

    public int Negations => BitOperations.PopCount((uint)(Care & ~Value));

    /// <summary>
    /// Per toggle in series order: 0 for a positive literal, 1 for a negated one, 2 for
    /// none. Comparing these sequences orders terms by the first toggle they name, the
    /// positive form first: the deterministic tie-break between equally small formulas.
    /// </summary>
    public int CompareKey(Cube other, int toggles)
    {
        for (int i = 0; i < toggles; i++)
        {
            int c = Code(this, i).CompareTo(Code(other, i));
            if (c != 0)
                return c;
        }
        return 0;
    }

    private static int Code(Cube c, int i) =>
        (c.Care & (1 << i)) == 0 ? 2 : (c.Value & (1 << i)) != 0 ? 0 : 1;
}
