using System.Numerics;
using KernelMm.Harness.Bisect;
using KernelMm.Harness.State;

namespace KernelMm.Harness.Tests.Bisect;

/// <summary>The bisection, minimal-cause and effect algorithms on verdict tables given directly, against brute force.</summary>
public class BisectAlgorithmTests
{
    private static Func<IReadOnlyList<int>, IReadOnlyList<Judgement>> Judge(Func<int, Verdict> verdict, List<int>? asked = null) =>
        masks =>
        {
            asked?.AddRange(masks);
            return [.. masks.Select(m => new Judgement(m, verdict(m), ""))];
        };

    [Test]
    public void The_first_bad_prefix_is_found_for_every_position_in_about_log2_steps([Range(1, 9)] int patches)
    {
        for (int firstBad = 1; firstBad <= patches; firstBad++)
        {
            var asked = new List<int>();
            var r = SeriesBisection.Run(patches, Judge(m => BitOperations.PopCount((uint)(m + 1)) == 1 && 32 - BitOperations.LeadingZeroCount((uint)m) >= firstBad ? Verdict.Bad : Verdict.Good, asked));
            Assert.That(r.End, Is.EqualTo(BisectEnd.Found));
            Assert.That(r.FirstBad, Is.EqualTo(firstBad));
            Assert.That(r.Steps, Has.Count.LessThanOrEqualTo((int)Math.Ceiling(Math.Log2(patches))));
            Assert.That(asked, Has.All.Matches<int>(m => BitOperations.PopCount((uint)(m + 1)) == 1), "only prefixes are run");
            Assert.That(asked.Distinct().Count(), Is.EqualTo(asked.Count), "no prefix is asked twice");
        }
    }

    [Test]
    public void Steps_say_what_is_left_as_git_bisect_does()
    {
        var r = SeriesBisection.Run(8, Judge(m => m >= SeriesBisection.Prefix(6) ? Verdict.Bad : Verdict.Good));
        Assert.That(r.Steps.Select(s => (s.Prefix, s.Verdict, s.LeftAfter)), Is.EqualTo(new[]
        {
            (4, Verdict.Good, 3), (6, Verdict.Bad, 1), (5, Verdict.Good, 0),
        }));
        Assert.That(r.Steps.Select(s => s.StepsAfter), Is.EqualTo(new[] { 2, 1, 0 }));
    }

    [Test]
    public void An_untestable_prefix_is_skipped_and_its_neighbour_tested()
    {
        // Bad from prefix 4; prefix 2 (the first midpoint of 0..5) cannot be tested.
        var r = SeriesBisection.Run(5, Judge(m => m == SeriesBisection.Prefix(2) ? Verdict.Untestable : m >= SeriesBisection.Prefix(4) ? Verdict.Bad : Verdict.Good));
        Assert.That(r.End, Is.EqualTo(BisectEnd.Found));
        Assert.That(r.FirstBad, Is.EqualTo(4));
        Assert.That(r.Steps[0], Is.EqualTo(new BisectStep(2, Verdict.Untestable, 2, 2)));
    }

    [Test]
    public void Untestable_prefixes_right_before_the_first_bad_one_leave_candidates()
    {
        var r = SeriesBisection.Run(4, Judge(m => m == SeriesBisection.Prefix(2) ? Verdict.Untestable : m >= SeriesBisection.Prefix(3) ? Verdict.Bad : Verdict.Good));
        Assert.That(r.End, Is.EqualTo(BisectEnd.Skipped));
        Assert.That(r.Candidates, Is.EqualTo(new[] { 2, 3 }));
    }

    [Test]
    public void The_ends_decide_whether_there_is_anything_to_bisect()
    {
        Assert.That(SeriesBisection.Run(3, Judge(_ => Verdict.Bad)).End, Is.EqualTo(BisectEnd.BaseBad));
        Assert.That(SeriesBisection.Run(3, Judge(_ => Verdict.Good)).End, Is.EqualTo(BisectEnd.NeverBad));
        Assert.That(SeriesBisection.Run(3, Judge(m => m == 0 ? Verdict.Untestable : Verdict.Bad)).End, Is.EqualTo(BisectEnd.BaseUntestable));
        Assert.That(SeriesBisection.Run(3, Judge(m => m == 7 ? Verdict.Untestable : Verdict.Good)).End, Is.EqualTo(BisectEnd.AllUntestable));
        Assert.That(SeriesBisection.Run(0, Judge(_ => Verdict.Good)).End, Is.EqualTo(BisectEnd.EmptySeries));
    }

    [Test]
    public void Exhaustive_causes_are_the_inclusion_minimal_bad_sets_with_their_necessity()
    {
        // Bad exactly where (a & b) | c, over a b c d.
        static Verdict V(int m) => (m & 3) == 3 || (m & 4) != 0 ? Verdict.Bad : Verdict.Good;
        var table = Enumerable.Range(0, 16).Select(m => new Judgement(m, V(m), "")).ToList();
        var c = MinimalCauses.Exhaustive(4, table, ["a", "b", "c", "d"]);
        Assert.That(c.Causes.Select(x => x.Mask), Is.EqualTo(new[] { 4, 3 }), "{c} first (smallest), then {a, b}");
        Assert.That(c.BadFormula, Is.EqualTo("a & b | c"));
        var cOnly = c.Causes[0];
        Assert.That((cOnly.Supersets, cOnly.BadSupersets, cOnly.BadWithout), Is.EqualTo((8, 8, 2)));
        Assert.That((cOnly.Sufficient, cOnly.Necessary), Is.EqualTo((true, false)));
        Assert.That(c.NecessaryPatches, Is.Empty);
    }

    [Test]
    public void A_patch_that_suppresses_the_behaviour_makes_a_cause_insufficient()
    {
        // a shows it, unless d is applied too.
        static Verdict V(int m) => (m & 1) != 0 && (m & 8) == 0 ? Verdict.Bad : Verdict.Good;
        var c = MinimalCauses.Exhaustive(4, [.. Enumerable.Range(0, 16).Select(m => new Judgement(m, V(m), ""))], ["a", "b", "c", "d"]);
        Assert.That(c.Causes.Single().Mask, Is.EqualTo(1));
        Assert.That((c.Causes[0].Sufficient, c.Causes[0].Necessary, c.Causes[0].BadSupersets, c.Causes[0].Supersets), Is.EqualTo((false, true, 4, 8)));
        Assert.That(c.BadFormula, Is.EqualTo("a & !d"));
    }

    [Test]
    public void Ddmin_finds_a_one_minimal_cause_that_brute_force_agrees_is_minimal()
    {
        var random = new Random(20260111);
        for (int trial = 0; trial < 200; trial++)
        {
            int n = random.Next(2, 9);
            // A monotone behaviour: bad when any of a few random patch sets is applied in full.
            var sets = Enumerable.Range(0, random.Next(1, 4)).Select(_ => random.Next(1, 1 << n)).ToList();
            Verdict V(int m) => sets.Any(s => (m & s) == s) ? Verdict.Bad : Verdict.Good;
            var asked = new HashSet<int>();
            int cause = MinimalCauses.Ddmin([.. Enumerable.Range(0, n)], masks =>
            {
                asked.UnionWith(masks);
                return [.. masks.Select(m => new Judgement(m, V(m), ""))];
            });
            Assert.That(V(cause), Is.EqualTo(Verdict.Bad), "the cause shows the behaviour");
            foreach (int i in MinimalCauses.Members(cause))
                Assert.That(V(cause & ~(1 << i)), Is.EqualTo(Verdict.Good), "1-minimal: without any one patch it disappears");
            var exhaustive = MinimalCauses.Exhaustive(n, [.. Enumerable.Range(0, 1 << n).Select(m => new Judgement(m, V(m), ""))], [.. Enumerable.Range(0, n).Select(i => $"p{i}")]);
            Assert.That(exhaustive.Causes.Select(c => c.Mask), Does.Contain(cause));
            Assert.That(asked.Count, Is.LessThanOrEqualTo(1 << n));
        }
    }

    [Test]
    public void Delta_debugging_reports_single_patches_and_one_ddmin_cause_from_few_runs()
    {
        const int n = 12;
        var asked = new HashSet<int>();
        // Needs p3 and p9 together.
        var c = MinimalCauses.DeltaDebug(n, masks =>
        {
            asked.UnionWith(masks);
            return [.. masks.Select(m => new Judgement(m, (m & 0x208) == 0x208 ? Verdict.Bad : Verdict.Good, ""))];
        });
        Assert.That(c.Exhaustive, Is.False);
        Assert.That(c.Causes.Select(x => x.Mask), Is.EqualTo(new[] { 0x208 }));
        Assert.That(asked.Count, Is.LessThan(60), "a few dozen of the 4096 combinations");

        var singles = MinimalCauses.DeltaDebug(n, masks => [.. masks.Select(m => new Judgement(m, (m & 0x30) != 0 ? Verdict.Bad : Verdict.Good, ""))]);
        Assert.That(singles.Causes.Select(x => x.Mask), Is.EqualTo(new[] { 0x10, 0x20 }));
    }

    private static IReadOnlyList<CheckpointState> State(params (string Name, long Value)[] vmstat) =>
        CheckpointState.Parse("### checkpoint: end\n#### vmstat\n" + string.Concat(vmstat.Select(v => $"{v.Name} {v.Value}\n")) + "#### warnings\nnone\n");

    [Test]
    public void Effects_are_mean_paired_differences_and_interactions_their_dependence_on_another_patch()
    {
        // y = 10 + 4a + 2b + 6ab; z exists only with c.
        var states = new Dictionary<int, IReadOnlyList<CheckpointState>>();
        for (int m = 0; m < 8; m++)
        {
            int a = m & 1, b = (m >> 1) & 1, c = (m >> 2) & 1;
            var lines = new List<(string, long)> { ("y", 10 + 4 * a + 2 * b + 6 * a * b), ("flat", 7) };
            if (c == 1)
                lines.Add(("z", 1));
            states[m] = State([.. lines]);
        }
        var e = ToggleEffects.Compute(3, states, factorial: true, ["a", "b", "c"]);
        var y = e.Main.Where(x => x.Metric == "vmstat.y").ToList();
        Assert.That(y.Select(x => (x.Patch, x.Mean, x.Min, x.Max)), Is.EqualTo(new[] { (0, 7.0, 4.0, 10.0), (1, 5.0, 2.0, 8.0) }));
        Assert.That(e.Main.Where(x => x.Metric == "vmstat.flat" || x.Metric == "warnings.lines"), Is.Empty, "a metric that never changes has no effect");
        Assert.That(e.Presence.Select(p => (p.Metric, p.Where)), Is.EqualTo(new[] { ("vmstat.z", "c") }));
        var i = e.Interactions.Single();
        Assert.That((i.A, i.B), Is.EqualTo((0, 1)));
        Assert.That(i.Metrics.Single(), Is.EqualTo(new InteractionMetric("vmstat.y", 8, 2)));

        var ofat = ToggleEffects.Compute(3, states.Where(kv => ToggleEffects.Needed(3, false).Contains(kv.Key)).ToDictionary(), factorial: false, ["a", "b", "c"]);
        Assert.That(ofat.Main.Where(x => x.Metric == "vmstat.y").Select(x => (x.Patch, x.Mean)), Is.EqualTo(new[] { (0, 4.0), (1, 2.0) }));
        Assert.That(ofat.Interactions.Single().Metrics.Single(), Is.EqualTo(new InteractionMetric("vmstat.y", 8, 2)));
    }
}
