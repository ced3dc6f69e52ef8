using KernelMm.Model.Mm;

namespace KernelMm.Model.Tests.Mm;

/// <summary>select_bad_process / oom_evaluate_task (mm/oom_kill.c, 5.x).</summary>
public class OomKillerTests
{
    [Test]
    public void OnATieTheLaterTaskIsKilled()
    {
        var k = TestKernel.Boot();
        var first = k.Spawn("first");
        var second = k.Spawn("second");
        Assume.That(Kernel.OomBadness(first), Is.EqualTo(Kernel.OomBadness(second)), "both: one stack page and its three tables");
        k.OutOfMemory(first);
        Assert.Multiple(() =>
        {
            Assert.That(first.Alive, Is.True);
            Assert.That(second.Alive, Is.False, "points < chosen_points skips; an equal score is selected");
        });
    }

    [Test]
    public void UserTasksStartAfterTheReservedPidsSoNoneIsInit()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("first");
        Assert.Multiple(() =>
        {
            Assert.That(p.Pid, Is.EqualTo(Kernel.RESERVED_PIDS));
            Assert.That(p.Fork("child").Pid, Is.EqualTo(Kernel.RESERVED_PIDS + 1));
            Assert.That(Kernel.OomUnkillableTask(p), Is.False);
        });
    }
}
