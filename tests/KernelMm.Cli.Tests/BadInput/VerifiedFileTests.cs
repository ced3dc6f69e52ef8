using System.Text;

namespace KernelMm.Cli.Tests.BadInput;

/// <summary>
/// Verified files that went wrong on disk (truncated, CRLF, a BOM) or lost their scenario
/// (an orphan), through <c>kmm run</c>, <c>kmm diff</c> and <c>kmm accept</c>: the run fails
/// with a message that names the file and what is wrong with it, the verified file is left
/// as it is (only <c>kmm accept</c> replaces it), and an orphan fails in CI only.
/// </summary>
[NonParallelizable]
public class VerifiedFileTests
{
    private const string Script = "// Report: a worker maps and touches 1 MiB.\nvar p = Spawn(\"worker\");\nvar buf = p.Mmap(1.MiB());\np.Touch(buf, 1.MiB(), Access.Write);\nRecord(\"note\", \"→ touched\");\n";
    private const string Verified = "Snapshots/worker.verified.txt";
    private const string Received = "Snapshots/worker.received.txt";

    private KmmClone _clone = null!;
    private byte[] _good = null!;

    [SetUp]
    public void SetUp()
    {
        _clone = new KmmClone();
        _good = _clone.AddVerifiedScenario("worker", Script);
    }

    [TearDown]
    public void TearDown() => _clone.Dispose();

    [Test]
    public void A_file_cut_mid_line_fails_says_it_has_no_final_newline_and_accept_restores_it()
    {
        int cut = IndexOf(_good, "VmRSS"u8.ToArray()) + 3;
        _clone.WriteBytes(Verified, _good[..cut]);
        var before = _clone.Snapshots();

        var r = _clone.Kmm("run", "Scenarios/worker.csx");

        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrLines, Is.EqualTo(new[]
        {
            "Scenarios/worker.csx: snapshot changed (received: worker.received.txt)",
            $"{Verified}: not a valid snapshot file: does not end with a newline (snapshots are UTF-8 without BOM, LF line ends, one final newline)",
        }), r.ToString());
        before.AssertVerifiedUnchanged(_clone);
        Assert.That(_clone.ReadBytes(Received), Is.EqualTo(_good), "the received file is what the run produced");

        var diff = _clone.Kmm("diff");
        Assert.That(diff.ExitCode, Is.EqualTo(1), diff.ToString());
        Assert.That(diff.Out, Does.Contain($"--- {Verified}\n+++ {Received}\n@@ "));
        before.AssertVerifiedUnchanged(_clone);

        var accept = _clone.Kmm("accept");
        Assert.That(accept.ExitCode, Is.EqualTo(0), accept.ToString());
        Assert.That(_clone.ReadBytes(Verified), Is.EqualTo(_good), "accepting the received file puts the whole snapshot back");
        Assert.That(_clone.Kmm("run", "Scenarios/worker.csx").ExitCode, Is.EqualTo(0));
    }

    [Test]
    public void A_file_cut_at_a_line_end_is_a_plain_change_with_the_missing_lines_in_the_diff()
    {
        string text = Encoding.UTF8.GetString(_good);
        string cut = text[..(text.IndexOf("#### events\n", StringComparison.Ordinal))];
        _clone.Write(Verified, cut);
        var before = _clone.Snapshots();

        var r = _clone.KmmInCi("run", "Scenarios/worker.csx");

        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.ErrLines, Is.EqualTo(new[] { "Scenarios/worker.csx: snapshot changed (nothing written: KMM_UPDATE=no)" }), r.ToString());
        Assert.That(r.Out, Does.Contain("snapshots differ (KMM_UPDATE=no: nothing written)"));
        before.AssertVerifiedUnchanged(_clone);
        Assert.That(_clone.Snapshots().Received, Is.Empty, "CI writes nothing");

        Assert.That(_clone.Kmm("run", "Scenarios/worker.csx").ExitCode, Is.EqualTo(1));
        var diff = _clone.Kmm("diff");
        Assert.That(diff.Out, Does.Contain("\n+#### events\n"), diff.ToString());
        before.AssertVerifiedUnchanged(_clone);
    }

    [Test]
    public void A_file_cut_inside_a_UTF8_character_is_reported_not_a_crash()
    {
        int arrow = IndexOf(_good, Encoding.UTF8.GetBytes("→"));
        _clone.WriteBytes(Verified, _good[..(arrow + 1)]);
        var before = _clone.Snapshots();

        var r = _clone.Kmm("run", "Scenarios/worker.csx");

        Assert.That(r.ExitCode, Is.EqualTo(1), r.ToString());
        Assert.That(r.Err, Does.Not.Contain("Unhandled exception"));
        Assert.That(r.ErrLines[0], Is.EqualTo("Scenarios/worker.csx: snapshot changed (received: worker.received.txt)"), r.ToString());
        Assert.That(r.ErrLines[1], Does.StartWith($"{Verified}: not a valid snapshot file: is not valid UTF-8"), r.ToString());
        before.AssertVerifiedUnchanged(_clone);

        var diff = _clone.Kmm("diff");
        Assert.That(diff.ExitCode, Is.EqualTo(1), diff.ToString());
        Assert.That(diff.Out, Does.Contain("+note = → touched"));
    }

    [Test]
    public void CRLF_line_ends_are_named_and_the_content_is_said_to_be_the_same()
    {
        _clone.WriteBytes(Verified, Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(_good).Replace("\n", "\r\n")));
        AssertEncodingOnlyProblem("contains a carriage return (CR)");
    }

    [Test]
    public void A_byte_order_mark_is_named_and_the_content_is_said_to_be_the_same()
    {
        _clone.WriteBytes(Verified, [0xEF, 0xBB, 0xBF, .. _good]);
        AssertEncodingOnlyProblem("starts with a UTF-8 byte order mark");
    }

    /// <summary>
    /// An editor's BOM or CRLF: the run fails (it is not the committed snapshot's bytes), the
    /// message says what is wrong and that the content is otherwise the same, <c>kmm diff</c>
    /// says so too instead of showing every line changed (or nothing), and in CI nothing is
    /// written; <c>kmm accept</c> puts the well-formed file back.
    /// </summary>
    private void AssertEncodingOnlyProblem(string problem)
    {
        var before = _clone.Snapshots();
        string expected = $"{Verified}: not a valid snapshot file: {problem}; apart from that its content is what the run produced (snapshots are UTF-8 without BOM, LF line ends, one final newline)";

        var ci = _clone.KmmInCi("run", "Scenarios/worker.csx");
        Assert.That(ci.ExitCode, Is.EqualTo(1), ci.ToString());
        Assert.That(ci.ErrLines, Is.EqualTo(new[] { "Scenarios/worker.csx: snapshot changed (nothing written: KMM_UPDATE=no)", expected }), ci.ToString());
        Assert.That(_clone.Snapshots().Received, Is.Empty);

        var local = _clone.Kmm("run", "Scenarios/worker.csx");
        Assert.That(local.ExitCode, Is.EqualTo(1), local.ToString());
        Assert.That(local.ErrLines, Is.EqualTo(new[] { "Scenarios/worker.csx: snapshot changed (received: worker.received.txt)", expected }), local.ToString());
        before.AssertVerifiedUnchanged(_clone);

        var diff = _clone.Kmm("diff");
        Assert.That(diff.ExitCode, Is.EqualTo(1), diff.ToString());
        Assert.That(diff.Out, Is.EqualTo(expected + "\n"), "the problem in words, and no hunk of lines that look the same");
        before.AssertVerifiedUnchanged(_clone);

        Assert.That(_clone.Kmm("accept").ExitCode, Is.EqualTo(0));
        Assert.That(_clone.ReadBytes(Verified), Is.EqualTo(_good));
    }

    [Test]
    public void An_orphan_is_reported_locally_fails_in_CI_and_stays_until_accept()
    {
        _clone.WriteBytes("Snapshots/gone/old.verified.txt", _good);
        var before = _clone.Snapshots();

        var local = _clone.Kmm("run");
        Assert.That(local.ExitCode, Is.EqualTo(0), local.ToString());
        Assert.That(local.ErrLines, Is.EqualTo(new[]
        {
            "Snapshots/gone/old.verified.txt: orphan snapshot: no Scenarios/gone/old.csx (`kmm accept` removes it)",
        }), local.ToString());
        Assert.That(local.Out, Does.Contain("1 verified, 0 changed, 0 new, 0 failed"));

        var ci = _clone.KmmInCi("run");
        Assert.That(ci.ExitCode, Is.EqualTo(1), ci.ToString());
        Assert.That(ci.ErrLines, Is.EqualTo(new[]
        {
            "Snapshots/gone/old.verified.txt: orphan snapshot: no Scenarios/gone/old.csx (fails in CI: delete it, or run `kmm accept` to remove it, and commit)",
        }), ci.ToString());

        var tfs = _clone.Invoke(new Dictionary<string, string> { ["TF_BUILD"] = "True" }, "run");
        Assert.That(tfs.ExitCode, Is.EqualTo(1), "Azure Pipelines counts as CI\n" + tfs);

        var oneFile = _clone.KmmInCi("run", "Scenarios/worker.csx");
        Assert.That(oneFile.ExitCode, Is.EqualTo(0), "orphans are looked for only when a folder (or everything) is run\n" + oneFile);
        before.AssertVerifiedUnchanged(_clone);

        var accept = _clone.Kmm("accept");
        Assert.That(accept.Out, Is.EqualTo("removed orphan Snapshots/gone/old.verified.txt\n"), accept.ToString());
        Assert.That(_clone.Exists("Snapshots/gone/old.verified.txt"), Is.False);
        Assert.That(Directory.Exists(_clone.FullPath("Snapshots/gone")), Is.False, "the emptied folder goes too");
        Assert.That(_clone.KmmInCi("run").ExitCode, Is.EqualTo(0));
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        for (int i = 0; i + needle.Length <= haystack.Length; i++)
            if (haystack.AsSpan(i, needle.Length).SequenceEqual(needle))
                return i;
        throw new InvalidOperationException("not found");
    }
}
