using KernelMm.Harness.Bench;

namespace KernelMm.Harness.Tests.Bench;

/// <summary>The model and host figures' CPU time: this thread's, from clock_gettime(CLOCK_THREAD_CPUTIME_ID).</summary>
public class ThreadCpuTimeTests
{
    [Test]
    public void Computing_takes_cpu_time_and_sleeping_does_not()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Ignore("the thread CPU clock is read on Linux only");
        long sum = 0;
        var busy = ThreadCpuTime.Time(() =>
        {
            for (int i = 0; i < 20_000_000; i++)
                sum += i ^ (sum >> 3);
        });
        var asleep = ThreadCpuTime.Time(() => Thread.Sleep(200));
        Assert.Multiple(() =>
        {
            Assert.That(sum, Is.Not.Zero);
            Assert.That(busy.Cpu, Is.GreaterThan(0), "a loop of 20 million steps takes some CPU");
            Assert.That(asleep.Wall, Is.GreaterThanOrEqualTo(0.19), "the sleep took its wall time");
            Assert.That(asleep.Cpu, Is.LessThan(asleep.Wall / 2), "a sleeping thread uses (almost) no CPU");
        });
    }
}
