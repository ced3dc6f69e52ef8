using KernelMm.Model.Mm;

namespace KernelMm.Model.Tests.Mm;

/// <summary>/proc/PID/status as task_mem (fs/proc/task_mmu.c) prints it.</summary>
public class StatusTests
{
    [Test]
    public void EachLineIsNameColonTabValueInEightColumnsThenKb()
    {
        var k = TestKernel.Boot();
        var p = k.Spawn("status");
        var lines = p.RenderStatus().Split('\n');
        Assert.Multiple(() =>
        {
            Assert.That(lines[0], Is.EqualTo("VmPeak:\t     132 kB"));
            Assert.That(lines, Does.Contain("VmPTE:\t      12 kB"));
            Assert.That(lines[^1], Is.Empty, "every line ends in a newline");
        });
    }
}
