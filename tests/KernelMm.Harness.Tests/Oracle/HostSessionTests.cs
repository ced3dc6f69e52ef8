using KernelMm.Harness.Oracle;
using KernelMm.Model.Mm;
using NUnit.Framework;
using static KernelMm.Harness.Oracle.HostLibc;

namespace KernelMm.Harness.Tests.Oracle;

/// <summary>
/// The oracle's agents on this machine's kernel (Linux x86-64 only): the real numbers of
/// the workload the model's conformance test replays by hand.
/// <code>
///   window slot (512 GiB)                                  0x7fc000000000 + 1 GiB      STACK_TOP
///   |--------------------------------------------------------[ 1 GiB written ]--...--[stack]|
/// </code>
/// </summary>
[TestFixture, NonParallelizable]
public sealed class HostSessionTests
{
    private const long GiB = 1L << 30;

    [Test]
    public void Writing_a_gigabyte_costs_512_pte_tables_and_one_pmd_table()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Ignore("needs Linux");
        using var s = new HostSession();
        var a = s.Spawn(MmStruct.STACK_TOP - Process.InitialStackSize, MmStruct.STACK_TOP);
        var start = s.Read(a);
        Assert.That(start.Vmas, Has.Count.EqualTo(1), "only the stack is in the window");
        Assert.That(start.Present, Is.EqualTo(1), "the stack's top page");

        ulong at = s.Window.ToHost(0x7fc000000000);
        long got = a.Syscall(SYS_mmap, (long)at, GiB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        Assert.That(got, Is.EqualTo((long)at));
        Assert.That(a.Touch(at, at + GiB, 4096, write: true), Is.EqualTo(GiB / 4096));
        var written = s.Read(a);
        Assert.Multiple(() =>
        {
            Assert.That(written.Status["VmPTE"] - start.Status["VmPTE"], Is.EqualTo(2052));
            Assert.That(written.Status["RssAnon"] - start.Status["RssAnon"], Is.EqualTo(GiB >> 10));
            Assert.That(written.MinFlt - start.MinFlt, Is.EqualTo(GiB / 4096));
            Assert.That(written.Present, Is.EqualTo(GiB / 4096 + 1));
        });

        var child = a.Fork();
        var forked = s.Read(child);
        Assert.That(forked.Status["RssAnon"], Is.GreaterThanOrEqualTo(GiB >> 10), "the child maps the parent's pages copy-on-write");
        child.Exit();
        Assert.That(HostProcFiles.IsGone(child.Pid), Is.True);

        Assert.That(a.Syscall(SYS_munmap, (long)at, GiB), Is.Zero);
        var unmapped = s.Read(a);
        Assert.That(unmapped.Status["VmPTE"], Is.EqualTo(start.Status["VmPTE"]), "free_pgtables frees the PMD and PTE tables");
    }

    [Test]
    public void Agents_run_without_rseq_so_the_kernel_writes_nothing_into_their_pages()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Ignore("needs Linux");
        if (HostRseq.OfThisThread() is not { } rseq)
        {
            Assert.Ignore("this libc registers no rseq area");
            return;
        }
        using var s = new HostSession();
        var a = s.Spawn(MmStruct.STACK_TOP - Process.InitialStackSize, MmStruct.STACK_TOP);
        var child = a.Fork();
        foreach (var agent in new[] { a, child })
        {
            var status = File.ReadAllLines($"/proc/{agent.Pid}/status");
            Assert.That(status, Has.Member("SigCgt:\t0000000000000000"), $"agent {agent.Pid} catches no signal: the runtime's handlers are reset");
            Assert.That(status, Has.Member("SigBlk:\t0000000000000000"), $"agent {agent.Pid} blocks no signal");
        }
        // A second unregister finds nothing registered: -EINVAL (kernel/rseq.c), in the agent and in its fork.
        foreach (var agent in new[] { a, child })
            foreach (long len in rseq.Lengths)
                Assert.That(agent.Syscall(HostRseq.SYS_rseq, rseq.Address, len, HostRseq.FlagUnregister, HostRseq.Sig),
                    Is.EqualTo(-22), $"agent {agent.Pid}, rseq_len {len}");
        // With nothing registered, every agent on one CPU and no runtime signal handler left
        // to run when a forked agent exits (SIGCHLD at SIG_DFL), a fork's only fault in the
        // parent is its command buffer's copy, every time.
        var deltas = new List<long>();
        for (int i = 0; i < 20; i++)
        {
            long before = s.Read(a).MinFlt;
            var f = a.Fork();
            deltas.Add(s.Read(a).MinFlt - before);
            f.Exit();
        }
        Assert.That(deltas.Distinct(), Has.Exactly(1).Items, string.Join(",", deltas));
        child.Exit();
    }

    [Test]
    public void A_touch_of_the_zero_page_reads_as_zero_pages()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Ignore("needs Linux");
        using var s = new HostSession();
        if (s.ZeroPfn == 0)
            Assert.Ignore("pagemap hides pfns (not root)");
        var a = s.Spawn(MmStruct.STACK_TOP - Process.InitialStackSize, MmStruct.STACK_TOP);
        ulong at = s.Window.ToHost(0x7fc000000000);
        a.Syscall(SYS_mmap, (long)at, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        a.Touch(at, at + (1 << 20), 4096, write: false);
        var r = s.Read(a);
        Assert.That(r.Zero, Is.EqualTo(256));
    }

    [Test]
    public void The_probe_reports_this_kernels_pt_reclaim()
    {
        if (!OperatingSystem.IsLinux())
            Assert.Ignore("needs Linux");
        using var s = new HostSession();
        var facts = HostKernelProbe.Probe(s);
        Assert.That(facts.Release, Is.EqualTo(File.ReadAllText("/proc/sys/kernel/osrelease").Trim()));
        TestContext.Out.WriteLine(string.Join("\n", facts.Describe()));
        // This machine's kernel was built with CONFIG_PT_RECLAIM where /proc/config.gz says so.
        if (File.Exists("/proc/config.gz"))
        {
            using var z = new System.IO.Compression.GZipStream(File.OpenRead("/proc/config.gz"), System.IO.Compression.CompressionMode.Decompress);
            bool built = new StreamReader(z).ReadToEnd().Contains("CONFIG_PT_RECLAIM=y", StringComparison.Ordinal);
            Assert.That(facts.PtReclaim, Is.EqualTo(built));
        }
    }
}
