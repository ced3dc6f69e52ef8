using System.Text;

namespace KernelMm.Harness.Snapshots;

/// <summary>One line of a unified diff, with its kind so a console can colour it.</summary>
public readonly record struct DiffLine(DiffLineKind Kind, string Text);

public enum DiffLineKind { FileHeader, HunkHeader, Context, Removed, Added }

/// <summary>
/// A unified diff (<c>diff -u</c> layout, 3 lines of context) of the line edit script of
/// <see cref="EditScript"/> (DiffPlex's line differ, capped for very large texts). DiffPlex
/// 1.4 has no unified renderer, so the hunks are built here.
/// </summary>
public static class UnifiedDiff
{
    /// <param name="oldText">The earlier text.</param>
    /// <param name="newText">The later text.</param>
    /// <param name="oldName">How the --- line names it.</param>
    /// <param name="newName">How the +++ line names it.</param>
    /// <param name="context">Lines of context around each change.</param>
    /// <param name="where">
    /// Names the place of a hunk's first change (given the lines of the side it is on and its
    /// index), printed after the hunk header as git prints a function (<see cref="SnapshotLocation.Describe"/>).
    /// </param>
    public static IReadOnlyList<DiffLine> Lines(string oldText, string newText, string oldName, string newName, int context = 3,
        Func<IReadOnlyList<string>, int, string?>? where = null)
    {
        var a = SplitLines(oldText);
        var b = SplitLines(newText);
        var ops = EditScript.Compute(a, b);

        var lines = new List<DiffLine>();
        if (ops.All(o => o.Kind == DiffLineKind.Context))
            return lines;
        lines.Add(new DiffLine(DiffLineKind.FileHeader, "--- " + oldName));
        lines.Add(new DiffLine(DiffLineKind.FileHeader, "+++ " + newName));

        int k = 0;
        while (k < ops.Count)
        {
            int firstChange = ops.FindIndex(k, o => o.Kind != DiffLineKind.Context);
            if (firstChange < 0)
                break;
            int start = Math.Max(k, firstChange - context);
            // Extend the hunk while the next change is within 2*context lines of the last one.
            int end = firstChange;
            for (int j = firstChange; j < ops.Count; j++)
            {
                if (ops[j].Kind != DiffLineKind.Context)
                    end = j;
                else if (j - end > 2 * context)
                    break;
            }
            int stop = Math.Min(ops.Count, end + context + 1);
            var hunk = ops.GetRange(start, stop - start);
            int aStart = hunk[0].A, bStart = hunk[0].B;
            int aCount = hunk.Count(o => o.Kind != DiffLineKind.Added);
            int bCount = hunk.Count(o => o.Kind != DiffLineKind.Removed);
            var first = ops[firstChange];
            string? place = where is null ? null
                : first.Kind == DiffLineKind.Added ? where(b, first.B) : where(a, first.A);
            lines.Add(new DiffLine(DiffLineKind.HunkHeader, $"@@ -{Range(aStart, aCount)} +{Range(bStart, bCount)} @@{(place is null ? "" : " " + place)}"));
            foreach (var o in hunk)
            {
                lines.Add(o.Kind switch
                {
                    DiffLineKind.Removed => new DiffLine(o.Kind, "-" + a[o.A]),
                    DiffLineKind.Added => new DiffLine(o.Kind, "+" + b[o.B]),
                    _ => new DiffLine(o.Kind, " " + a[o.A]),
                });
            }
            k = stop;
        }
        return lines;
    }

    /// <summary>The diff as text, one line per line, LF-terminated; empty when the texts are equal.</summary>
    public static string Render(string oldText, string newText, string oldName, string newName, int context = 3,
        Func<IReadOnlyList<string>, int, string?>? where = null)
    {
        var sb = new StringBuilder();
        foreach (var l in Lines(oldText, newText, oldName, newName, context, where))
            sb.Append(l.Text).Append('\n');
        return sb.ToString();
    }

    // diff -u numbers lines from 1; an empty range is shown at the line before it.
    private static string Range(int start, int count) => count switch
    {
        0 => $"{start},0",
        1 => $"{start + 1}",
        _ => $"{start + 1},{count}",
    };

    private static string[] SplitLines(string s)
    {
        if (s.Length == 0)
            return [];
        var parts = s.Split('\n');
        return s.EndsWith('\n') ? parts[..^1] : parts;
    }
}
