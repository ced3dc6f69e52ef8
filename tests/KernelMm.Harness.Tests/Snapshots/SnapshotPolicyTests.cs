using KernelMm.Harness.Snapshots;

namespace KernelMm.Harness.Tests.Snapshots;

public class SnapshotPolicyTests
{
    private static Func<string, string?> Env(params (string Key, string Value)[] vars) =>
        k => vars.FirstOrDefault(v => v.Key == k).Value;

    [TestCase(null, null, false)]
    [TestCase("true", null, true)]
    [TestCase("1", null, true)]
    [TestCase("yes", null, true)]
    [TestCase("false", null, false)]
    [TestCase("0", null, false)]
    [TestCase("", null, false)]
    [TestCase(null, "True", true)]
    [TestCase("false", "True", false)]
    public void CI_is_detected_as_insta_does(string? ci, string? tfBuild, bool expected)
    {
        var vars = new List<(string, string)>();
        if (ci is not null)
            vars.Add(("CI", ci));
        if (tfBuild is not null)
            vars.Add(("TF_BUILD", tfBuild));
        Assert.That(SnapshotPolicy.IsCi(Env([.. vars])), Is.EqualTo(expected));
    }

    [TestCase(null, false, UpdateMode.New)]
    [TestCase(null, true, UpdateMode.No)]
    [TestCase("auto", false, UpdateMode.New)]
    [TestCase("auto", true, UpdateMode.No)]
    [TestCase("new", true, UpdateMode.New)]
    [TestCase("ALWAYS", false, UpdateMode.Always)]
    [TestCase("no", false, UpdateMode.No)]
    public void KMM_UPDATE_picks_the_mode(string? value, bool ci, UpdateMode expected) =>
        Assert.That(SnapshotPolicy.ParseMode(value, ci), Is.EqualTo(expected));

    [Test]
    public void A_bad_KMM_UPDATE_is_an_error() =>
        Assert.Throws<ArgumentException>(() => SnapshotPolicy.ParseMode("sometimes", false));

    [Test]
    public void From_reads_both()
    {
        var p = SnapshotPolicy.From(Env(("CI", "true")));
        Assert.That(p, Is.EqualTo(new SnapshotPolicy(UpdateMode.No, true)));
        Assert.That(SnapshotPolicy.From(Env(("KMM_UPDATE", "always"))), Is.EqualTo(new SnapshotPolicy(UpdateMode.Always, false)));
    }
}
