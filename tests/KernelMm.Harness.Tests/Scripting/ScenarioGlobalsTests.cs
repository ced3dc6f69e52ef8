namespace KernelMm.Harness.Tests.Scripting;

/// <summary>Globals: Seed, and the boot warning for protectPageTables under pti.</summary>
public class ScenarioGlobalsTests
{
    private const string Draw = """
        Record("draw", Random.Long(0, 1_000_000_000));
        Record("name", Faker.Name.FirstName());
        """;

    [Test]
    public void By_default_the_seed_follows_the_scenario_name()
    {
        string a = Recorded(ScriptRunner.Snapshot(Draw, "Scenarios/a.csx"));
        string b = Recorded(ScriptRunner.Snapshot(Draw, "Scenarios/b.csx"));
        Assert.That(a, Is.Not.EqualTo(b), "a renamed copy draws other numbers");
    }

    [Test]
    public void Seed_makes_the_workload_independent_of_the_name()
    {
        string a = Recorded(ScriptRunner.Snapshot("Seed(42);\n" + Draw, "Scenarios/a.csx"));
        string b = Recorded(ScriptRunner.Snapshot("Seed(42);\n" + Draw, "Scenarios/b.csx"));
        string c = Recorded(ScriptRunner.Snapshot("Seed(43);\n" + Draw, "Scenarios/a.csx"));
        Assert.Multiple(() =>
        {
            Assert.That(a, Is.EqualTo(b));
            Assert.That(a, Is.Not.EqualTo(c));
        });
    }

    [Test]
    public void Protect_page_tables_under_pti_warns_in_the_snapshot()
    {
        string on = ScriptRunner.Snapshot("Boot(pti: true, protectPageTables: true);\nSpawn(\"t\");");
        string off = ScriptRunner.Snapshot("Boot(pti: false, protectPageTables: true);\nSpawn(\"t\");");
        Assert.Multiple(() =>
        {
            Assert.That(on, Does.Contain("protectPageTables: PKS page tables are off because pti is on"));
            Assert.That(off, Does.Not.Contain("protectPageTables:"));
        });
    }

    private static string Recorded(string snapshot) =>
        string.Join("\n", snapshot.Split('\n').Where(l => l.StartsWith("draw = ") || l.StartsWith("name = ")));
}
