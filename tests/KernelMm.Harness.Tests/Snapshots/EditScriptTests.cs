using KernelMm.Harness.Snapshots;

namespace KernelMm.Harness.Tests.Snapshots;

public class EditScriptTests
{
    // Page-table dump lines, every other one changed and some inserted: far over the budget for DiffPlex.
    private static (string[] Old, string[] New) LargeTextsDifferingThroughout(int n)
    {
        var rnd = new Random(15);
        var a = new List<string>();
        var b = new List<string>();
        for (int i = 0; i < n; i++)
        {
            string line = $"0x{i * 4096L:x16}-0x{(i + 1) * 4096L:x16}    4K  USR  RW  NX  pte";
            a.Add(line);
            b.Add(rnd.Next(2) == 0 ? line : line.Replace(" RW ", " ro "));
            if (rnd.Next(8) == 0)
                b.Add("inserted " + rnd.Next(4));
        }
        return ([.. a], [.. b]);
    }

    private static List<string> Apply(string[] a, string[] b, List<EditOp> ops)
    {
        var result = new List<string>();
        int ia = 0;
        foreach (var op in ops)
        {
            switch (op.Kind)
            {
                case DiffLineKind.Context:
                    Assert.That(op.A, Is.EqualTo(ia), "steps in order");
                    Assert.That(a[op.A], Is.EqualTo(b[op.B]), "a kept line is the same on both sides");
                    result.Add(a[ia++]);
                    break;
                case DiffLineKind.Removed:
                    Assert.That(op.A, Is.EqualTo(ia), "steps in order");
                    ia++;
                    break;
                case DiffLineKind.Added:
                    Assert.That(op.B, Is.EqualTo(result.Count), "added lines in order");
                    result.Add(b[op.B]);
                    break;
            }
        }
        Assert.That(ia, Is.EqualTo(a.Length), "every old line kept or removed");
        return result;
    }

    [Test]
    public void Large_texts_that_differ_throughout_get_a_diff_that_rebuilds_the_new_text()
    {
        var (a, b) = LargeTextsDifferingThroughout(60_000);
        Assert.That((long)(a.Length + b.Length) * (b.Length - a.Length), Is.GreaterThan(EditScript.Budget), "the case is over the budget");
        var ops = EditScript.Compute(a, b);
        Assert.That(Apply(a, b, ops), Is.EqualTo(b));
        // The unique page lines that did not change anchor the diff: they stay context.
        Assert.That(ops.Count(o => o.Kind == DiffLineKind.Context), Is.GreaterThan(a.Length / 3));
    }

    [Test]
    public void Texts_with_nothing_in_common_become_removals_then_additions()
    {
        var a = Enumerable.Range(0, 30_000).Select(i => $"old {i}").ToArray();
        var b = Enumerable.Range(0, 30_000).Select(i => $"new {i}").ToArray();
        var ops = EditScript.Compute(a, b);
        Assert.That(Apply(a, b, ops), Is.EqualTo(b));
        Assert.That(ops.Count(o => o.Kind == DiffLineKind.Context), Is.Zero);
    }

    [Test]
    public void Small_texts_get_DiffPlex_s_shortest_diff()
    {
        string[] a = ["a", "b", "c", "a", "b", "b", "a"];
        string[] b = ["c", "b", "a", "b", "a", "c"];
        var ops = EditScript.Compute(a, b);
        Assert.That(Apply(a, b, ops), Is.EqualTo(b));
        // Myers' example: the shortest edit script has 5 steps that are not context.
        Assert.That(ops.Count(o => o.Kind != DiffLineKind.Context), Is.EqualTo(5));
    }
}
