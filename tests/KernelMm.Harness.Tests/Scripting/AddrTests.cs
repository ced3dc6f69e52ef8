using KernelMm.Harness.Scripting;

namespace KernelMm.Harness.Tests.Scripting;

/// <summary>Addresses and sizes compose without casts (ulong + long is CS0034 in C#).</summary>
public class AddrTests
{
    [Test]
    public void Arithmetic_wraps_like_unsigned_long_and_differences_are_sizes()
    {
        Addr a = 0x7f0000000000UL;
        Assert.Multiple(() =>
        {
            Assert.That((ulong)(a + 2.MiB()), Is.EqualTo(0x7f0000200000UL));
            Assert.That((ulong)(a - 4096L), Is.EqualTo(0x7efffffff000UL));
            Assert.That((a + 3 * 4.KiB()) - a, Is.EqualTo(12288L));
            Assert.That(a - (a + 4096), Is.EqualTo(-4096L));
            Assert.That((a + 5000) % 4096, Is.EqualTo(904L));
            Assert.That((ulong)((a + 5000) & ~(4.KiB() - 1)), Is.EqualTo(0x7f0000001000UL));
            Assert.That((ulong)(a + 1).AlignUp(2.MiB()), Is.EqualTo(0x7f0000200000UL));
            Assert.That((a + 1).AlignDown(2.MiB()), Is.EqualTo(a));
            Assert.That(a < a + 1 && a + 1 > a && a == 0x7f0000000000UL, Is.True);
            Assert.That(a.ToString(), Is.EqualTo("0x7f0000000000"));
            Assert.That($"{a:x}", Is.EqualTo("7f0000000000"));
        });
    }

    [Test]
    public void A_script_adds_sizes_to_addresses_without_casts()
    {
        string snapshot = ScriptRunner.Snapshot("""
            var p = Spawn("casts");
            var buf = p.Mmap(8.MiB());
            for (int i = 0; i < 4; i++)
                p.Touch(buf + i * 2.MiB(), 4.KiB(), Access.Write);
            var end = buf + 8.MiB();
            long len = end - buf;
            ulong raw = buf + 4096;
            p.Madvise(buf + 2.MiB(), 2.MiB(), Advice.DontNeed);
            Record("len", len);
            Record("second", (buf + 2.MiB()) - buf);
            Record("raw aligned", raw % 4096 == 0);
            Record("end > buf", end > buf);
            """);
        Assert.That(snapshot, Does.Contain("len = 8388608\nsecond = 2097152\nraw aligned = true\nend > buf = true\n"));
    }
}
