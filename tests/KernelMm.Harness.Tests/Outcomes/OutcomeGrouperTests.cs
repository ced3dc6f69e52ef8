using KernelMm.Harness.Outcomes;

namespace KernelMm.Harness.Tests.Outcomes;

public class OutcomeGrouperTests
{
    [Test]
    public void Groups_identical_states_and_orders_by_first_combination()
    {
        // Bit 0 = x, bit 1 = y. y alone decides the state.
        string[] states = ["base", "base", "with y", "with y"];
        var outcomes = OutcomeGrouper.Group(states, ["x", "y"]);
        Assert.That(outcomes.Select(o => o.Formula), Is.EqualTo(new[] { "!y", "y" }));
        Assert.That(outcomes[0].Combinations, Is.EqualTo(new[] { 0, 1 }));
        Assert.That(outcomes[1].Combinations, Is.EqualTo(new[] { 2, 3 }));
        Assert.That(outcomes[1].State, Is.EqualTo("with y"));
    }

    [Test]
    public void The_base_kernel_outcome_comes_first_even_when_it_is_rare()
    {
        string[] states = ["off", "on", "on", "on"];
        var outcomes = OutcomeGrouper.Group(states, ["x", "y"]);
        Assert.That(outcomes.Select(o => o.Formula), Is.EqualTo(new[] { "!x & !y", "x | y" }));
    }

    [Test]
    public void One_state_everywhere_is_all()
    {
        var outcomes = OutcomeGrouper.Group(["s", "s", "s", "s", "s", "s", "s", "s"], ["a", "b", "c"]);
        Assert.That(outcomes, Has.Count.EqualTo(1));
        Assert.That(outcomes[0].Formula, Is.EqualTo("all"));
    }

    [Test]
    public void States_differing_in_one_byte_are_different_outcomes()
    {
        var outcomes = OutcomeGrouper.Group(["a\n", "a \n"], ["x"]);
        Assert.That(outcomes.Select(o => o.Formula), Is.EqualTo(new[] { "!x", "x" }));
    }

    [Test]
    public void Wrong_number_of_states_is_rejected() =>
        Assert.Throws<ArgumentException>(() => OutcomeGrouper.Group(["a", "b", "c"], ["x", "y"]));
}
