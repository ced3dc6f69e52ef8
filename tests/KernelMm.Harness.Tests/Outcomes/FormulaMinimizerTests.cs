using KernelMm.Harness.Outcomes;

namespace KernelMm.Harness.Tests.Outcomes;

public class FormulaMinimizerTests
{
    private static readonly string[] Ids = ["a", "b", "c", "d", "e", "f"];

    [TestCase(1, new[] { 0 }, "!a")]
    [TestCase(1, new[] { 1 }, "a")]
    [TestCase(1, new[] { 0, 1 }, "all")]
    [TestCase(2, new[] { 1 }, "a & !b")]
    [TestCase(2, new[] { 1, 2, 3 }, "a | b")]
    [TestCase(3, new[] { 1, 3, 4, 5, 6, 7 }, "a | c")]
    [TestCase(3, new[] { 0, 2, 4, 6 }, "!a")]
    [TestCase(3, new[] { 3, 7 }, "a & b")]
    [TestCase(2, new[] { 1, 2 }, "a & !b | !a & b")]
    [TestCase(0, new[] { 0 }, "all")]
    public void Labels(int toggles, int[] selected, string expected) =>
        Assert.That(Formula.For(selected, Ids[..toggles]), Is.EqualTo(expected));

    [Test]
    public void Empty_set_is_none() => Assert.That(Formula.For([], Ids[..2]), Is.EqualTo("none"));

    [Test]
    public void Ties_are_broken_the_same_way_whatever_the_input_order()
    {
        // The 3-toggle "cyclic" function has two minimal covers of equal cost.
        int[] set = [1, 2, 3, 4, 5, 6];
        string first = Formula.For(set, Ids[..3]);
        Assert.That(Formula.For(set.Reverse(), Ids[..3]), Is.EqualTo(first));
        Assert.That(first, Is.EqualTo("a & !b | !a & c | b & !c"));
    }

    /// <summary>Every function of up to 4 toggles: the label selects exactly its set, with the brute-force minimum cost.</summary>
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    public void Matches_brute_force_for_every_function(int toggles)
    {
        var best = BruteForce.AllMinimalCosts(toggles);
        int size = 1 << toggles;
        for (int f = 1; f < 1 << size; f++)
        {
            var set = Enumerable.Range(0, size).Where(m => (f >> m & 1) != 0).ToArray();
            var cover = FormulaMinimizer.Minimize(toggles, set);
            Check(toggles, set, cover, best[f]);
        }
    }

    /// <summary>Functions of 5 and 6 toggles built from random small formulas and random sparse sets, against a brute-force search.</summary>
    [TestCase(5, 300)]
    [TestCase(6, 300)]
    public void Matches_brute_force_for_random_functions(int toggles, int count)
    {
        var rng = new Random(4242 + toggles);
        int size = 1 << toggles;
        for (int n = 0; n < count; n++)
        {
            var set = new SortedSet<int>();
            if (n % 2 == 0)
            {
                // A union of 1-3 random cubes: structured, like real outcomes.
                int terms = rng.Next(1, 4);
                for (int t = 0; t < terms; t++)
                {
                    int care = rng.Next(size), value = rng.Next(size) & care;
                    if (System.Numerics.BitOperations.PopCount((uint)care) < toggles - 3)
                        care |= rng.Next(size);
                    value &= care;
                    for (int m = 0; m < size; m++)
                        if ((m & care) == value)
                            set.Add(m);
                }
            }
            else
            {
                int k = rng.Next(1, 10);
                for (int i = 0; i < k; i++)
                    set.Add(rng.Next(size));
            }
            if (set.Count > 16)
                continue; // keep the brute force's state space small
            var cover = FormulaMinimizer.Minimize(toggles, set);
            Check(toggles, [.. set], cover, BruteForce.MinimalCost(toggles, set));
        }
    }

    private static void Check(int toggles, int[] set, IReadOnlyList<Cube> cover, (int Lits, int Terms) best)
    {
        var selected = Enumerable.Range(0, 1 << toggles).Where(m => Formula.Selects(cover, m)).ToArray();
        Assert.That(selected, Is.EqualTo(set), $"the formula {Formula.Render(cover, Ids[..toggles])} selects other combinations");
        var cost = (cover.Sum(c => c.Literals), cover.Count);
        Assert.That(cost, Is.EqualTo(best), $"{Formula.Render(cover, Ids[..toggles])} for {{{string.Join(",", set)}}} is not minimal");
    }
}
