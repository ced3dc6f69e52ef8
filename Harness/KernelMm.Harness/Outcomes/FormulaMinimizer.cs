namespace KernelMm.Harness.Outcomes;

/// <summary>
/// The smallest sum-of-products formula selecting exactly a set of combinations: the prime
/// implicants by Quine–McCluskey, then an exhaustive branch-and-bound search for the
/// cheapest cover. Cost is (literals, terms); among equally cheap covers the one with
/// fewer negations wins, then the first in <see cref="Cube.CompareKey"/> order, so the
/// label never depends on search order. Exact, and fast for the handful of toggles a
/// series has (it is checked against brute force for up to 6).
/// </summary>
public static class FormulaMinimizer
{
    /// <summary>The minimal cover of <paramref name="selected"/> (combination masks over <paramref name="toggles"/> toggles), terms sorted.</summary>
    public static IReadOnlyList<Cube> Minimize(int toggles, IEnumerable<int> selected)
    {
        if (toggles < 0 || toggles > 16)
            throw new ArgumentOutOfRangeException(nameof(toggles));
        int size = 1 << toggles;
        var on = new SortedSet<int>(selected);
        if (on.Count > 0 && (on.Min < 0 || on.Max >= size))
            throw new ArgumentOutOfRangeException(nameof(selected), $"a combination outside 0..{size - 1}");
        if (on.Count == 0)
            return [];
        if (on.Count == size)
            return [new Cube(0, 0)];

        var primes = PrimeImplicants(toggles, on);
        var minterms = on.ToArray();
        var search = new CoverSearch(toggles, minterms, primes);
        return search.Run();
    }

    /// <summary>Quine–McCluskey: merge cubes that differ in one cared-for toggle until nothing merges; what never merged is prime.</summary>
    internal static List<Cube> PrimeImplicants(int toggles, IEnumerable<int> on)
    {
        int full = (1 << toggles) - 1;
        var current = new HashSet<Cube>(on.Select(m => new Cube(full, m)));
        var primes = new List<Cube>();
        while (current.Count > 0)
        {
            var next = new HashSet<Cube>();
            var merged = new HashSet<Cube>();
            foreach (var c in current)
            {
                for (int bit = 1; bit <= full; bit <<= 1)
                {
                    if ((c.Care & bit) == 0)
                        continue;
                    var partner = new Cube(c.Care, c.Value ^ bit);
                    if (!current.Contains(partner))
                        continue;
                    next.Add(new Cube(c.Care & ~bit, c.Value & ~bit));
                    merged.Add(c);
                    merged.Add(partner);
                }
            }
            primes.AddRange(current.Where(c => !merged.Contains(c)));
            current = next;
        }
        primes.Sort((a, b) => a.CompareKey(b, toggles));
        return primes;
    }

    private sealed class CoverSearch
    {
        private readonly int _toggles;
        private readonly Cube[] _primes;
        private readonly ulong[][] _covers;      // per prime: bitset over minterm indices
        private readonly int[][] _coveringPrimes; // per minterm index: primes covering it
        private readonly int _words;
        private List<int>? _best;
        private (int Lits, int Terms, int Neg) _bestCost = (int.MaxValue, int.MaxValue, int.MaxValue);

        public CoverSearch(int toggles, int[] minterms, List<Cube> primes)
        {
            _toggles = toggles;
            _primes = [.. primes];
            _words = (minterms.Length + 63) / 64;
            _covers = new ulong[_primes.Length][];
            var covering = new List<int>[minterms.Length];
            for (int m = 0; m < minterms.Length; m++)
                covering[m] = [];
            for (int p = 0; p < _primes.Length; p++)
            {
                _covers[p] = new ulong[_words];
                for (int m = 0; m < minterms.Length; m++)
                {
                    if (!_primes[p].Covers(minterms[m]))
                        continue;
                    _covers[p][m / 64] |= 1UL << (m % 64);
                    covering[m].Add(p);
                }
            }
            // Cheapest primes first, so that good covers are found early and prune the rest.
            _coveringPrimes = covering.Select(l => l.OrderBy(p => _primes[p].Literals).ThenBy(p => p).ToArray()).ToArray();
        }

        public IReadOnlyList<Cube> Run()
        {
            var uncovered = new ulong[_words];
            for (int m = 0; m < _coveringPrimes.Length; m++)
                uncovered[m / 64] |= 1UL << (m % 64);
            Search(uncovered, [], (0, 0, 0));
            return Sorted(_best!);
        }

        private void Search(ulong[] uncovered, List<int> chosen, (int Lits, int Terms, int Neg) cost)
        {
            int pick = MostConstrained(uncovered);
            if (pick < 0)
            {
                Consider(chosen, cost);
                return;
            }
            var (lbLits, lbTerms) = LowerBound(uncovered);
            if (cost.Lits + lbLits > _bestCost.Lits || (cost.Lits + lbLits == _bestCost.Lits && cost.Terms + lbTerms > _bestCost.Terms))
                return;
            foreach (int p in _coveringPrimes[pick])
            {
                var c = _primes[p];
                var next = (cost.Lits + c.Literals, cost.Terms + 1, cost.Neg + c.Negations);
                // Strictly worse in (literals, terms) can never win; equal may, on the tie-break.
                if (next.Item1 > _bestCost.Lits || (next.Item1 == _bestCost.Lits && next.Item2 > _bestCost.Terms))
                    continue;
                var rest = new ulong[_words];
                for (int w = 0; w < _words; w++)
                    rest[w] = uncovered[w] & ~_covers[p][w];
                chosen.Add(p);
                Search(rest, chosen, next);
                chosen.RemoveAt(chosen.Count - 1);
            }
        }

        /// <summary>
        /// A bound on what covering <paramref name="uncovered"/> still costs: minterms no two
        /// of which share a prime each need a term of their own, at least as cheap as their
        /// cheapest prime.
        /// </summary>
        private (int Lits, int Terms) LowerBound(ulong[] uncovered)
        {
            var blocked = new ulong[_words];
            int lits = 0, terms = 0;
            for (int w = 0; w < _words; w++)
            {
                ulong bits = uncovered[w] & ~blocked[w];
                while (bits != 0)
                {
                    int m = w * 64 + System.Numerics.BitOperations.TrailingZeroCount(bits);
                    bits &= bits - 1;
                    if ((blocked[m / 64] & (1UL << (m % 64))) != 0)
                        continue;
                    var covering = _coveringPrimes[m];
                    lits += _primes[covering[0]].Literals; // sorted cheapest first
                    terms++;
                    foreach (int p in covering)
                        for (int x = 0; x < _words; x++)
                            blocked[x] |= _covers[p][x];
                    bits &= ~blocked[w];
                }
            }
            return (lits, terms);
        }

        /// <summary>The uncovered minterm with the fewest covering primes (an essential prime first), or -1.</summary>
        private int MostConstrained(ulong[] uncovered)
        {
            int best = -1, bestCount = int.MaxValue;
            for (int w = 0; w < _words; w++)
            {
                ulong bits = uncovered[w];
                while (bits != 0)
                {
                    int m = w * 64 + System.Numerics.BitOperations.TrailingZeroCount(bits);
                    bits &= bits - 1;
                    int n = _coveringPrimes[m].Length;
                    if (n < bestCount)
                    {
                        best = m;
                        bestCount = n;
                    }
                }
            }
            return best;
        }

        private void Consider(List<int> chosen, (int Lits, int Terms, int Neg) cost)
        {
            int cmp = (cost.Lits, cost.Terms, cost.Neg).CompareTo(_bestCost);
            if (cmp > 0)
                return;
            if (cmp == 0 && CompareCovers(Sorted(chosen), Sorted(_best!)) >= 0)
                return;
            _best = [.. chosen];
            _bestCost = cost;
        }

        private List<Cube> Sorted(List<int> chosen)
        {
            var cubes = chosen.Select(p => _primes[p]).ToList();
            cubes.Sort((a, b) => a.CompareKey(b, _toggles));
            return cubes;
        }

        private int CompareCovers(List<Cube> a, List<Cube> b)
        {
            for (int i = 0; i < Math.Min(a.Count, b.Count); i++)
            {
                int c = a[i].CompareKey(b[i], _toggles);
                if (c != 0)
                    return c;
            }
            return a.Count.CompareTo(b.Count);
        }
    }
}
