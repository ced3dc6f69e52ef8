using KernelMm.Harness.Repo;

namespace KernelMm.Harness.Tests.Repo;

/// <summary><c>kmm run --shard I/N</c> by cost: the longest scenarios first, each to the least loaded shard.</summary>
public class ShardTests
{
    private static readonly string[] Names = ["a", "b", "c", "d", "e", "f"];

    [Test]
    public void One_long_scenario_gets_a_shard_of_its_own()
    {
        double[] costs = [1, 1, 5, 1, 1, 1];
        Assert.That(Shard.Parse("1/2").Select(Names, costs), Is.EqualTo(new[] { "c" }));
        Assert.That(Shard.Parse("2/2").Select(Names, costs), Is.EqualTo(new[] { "a", "b", "d", "e", "f" }), "in path order");
    }

    [Test]
    public void Equal_costs_deal_as_the_count_does([Range(1, 6)] int n)
    {
        var equal = Names.Select(_ => 1.0).ToList();
        for (int i = 1; i <= n; i++)
            Assert.That(Shard.Parse($"{i}/{n}").Select(Names, equal), Is.EqualTo(Shard.Parse($"{i}/{n}").Select(Names)));
    }

    [Test]
    public void The_shards_are_the_whole_suite_and_within_the_lpt_bound([Range(2, 4)] int n)
    {
        double[] costs = [3, 9, 2, 7, 4, 4];
        var shards = Enumerable.Range(1, n).Select(i => Shard.Parse($"{i}/{n}").Select(Names, costs)).ToList();
        Assert.That(shards.SelectMany(s => s).Order(StringComparer.Ordinal), Is.EqualTo(Names));
        double Load(IEnumerable<string> s) => s.Sum(x => costs[Array.IndexOf(Names, x)]);
        double best = Math.Max(costs.Max(), costs.Sum() / n);
        Assert.That(shards.Max(Load), Is.LessThanOrEqualTo(best * 4 / 3), "LPT is within 4/3 of the best split");
    }

    [Test]
    public void Costs_must_match_the_items() =>
        Assert.That(() => Shard.Parse("1/2").Select(Names, [1.0]), Throws.ArgumentException);
}
