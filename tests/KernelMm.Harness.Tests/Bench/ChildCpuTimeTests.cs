using System.Diagnostics;
using KernelMm.Harness.Bench;

namespace KernelMm.Harness.Tests.Bench;

/// <summary>The suite figures' CPU time: what a waited-for child used, from getrusage(RUSAGE_CHILDREN).</summary>
public class ChildCpuTimeTests
{
    [Test]
    public void A_child_that_computes_adds_its_cpu_time()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Ignore("getrusage is read on Linux only");
        double before = ChildCpuTime.Seconds()!.Value;
        var psi = new ProcessStartInfo("sh") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done");
        using (var child = Process.Start(psi)!)
            child.WaitForExit();
        Assert.That(ChildCpuTime.Seconds(), Is.GreaterThan(before), "a shell loop of 100000 steps takes some CPU");
    }
}
