using System.Globalization;
using System.Text;

namespace KernelMm.Harness.Pictures;

/// <summary>
/// Draws a <see cref="MapPicture"/> as SVG text, alone or two side by side with the cells
/// that differ outlined. Everything is laid out in whole pixels from the picture alone (no
/// fonts measured, no clock, no hash order), so the same picture gives the same bytes on
/// every run and machine. Runs of equal cells are one rectangle with one tooltip, so a
/// gigabyte of 1G leaves costs one element.
/// </summary>
public static class SvgMap
{
    public const int Pad = 10, LabelWidth = 130, CellWidth = 2, LeafHeight = 12, StripHeight = 2, RowGap = 4, PanelGap = 24;
    // Monospace at 12px is about 7.2px a character; 8 leaves room in any browser's font.
    private const int LineHeight = 16, CharWidth = 8;

    /// <summary>The colour of each mark's strip, by bit (ro, x, not present, PKS key, _PAGE_KERNEL_4K).</summary>
    public static readonly string[] MarkColours = ["#1565c0", "#8e24aa", "#757575", "#00897b", "#ef6c00"];

    /// <summary>The outline of changed cells.</summary>
    public const string ChangedColour = "#000000";

    private static int PanelWidth => MapPicture.CellsPerRow * CellWidth;

    private static int CellHeight(MapPicture p) => LeafHeight + (p.Marks != MapMarks.None ? 5 * StripHeight : 0);

    /// <summary>One map.</summary>
    public static string Render(MapPicture p)
    {
        int width = Pad + LabelWidth + PanelWidth + Pad;
        var body = new StringBuilder();
        int y = Pad;
        Text(body, Pad, y + 13, p.Title, "font-size=\"14\" font-weight=\"bold\"");
        y += LineHeight + 6;
        y = Rows(body, p, y, Pad + LabelWidth, null, true);
        y = Legend(body, p, y + 6, Pad, width - 2 * Pad, false);
        y = Notes(body, p.Notes, y, Pad, width - 2 * Pad);
        return Document(width, y + Pad, body);
    }

    /// <summary>Two maps of the same address space side by side, the cells that differ outlined on both.</summary>
    /// <param name="title">The heading over both.</param>
    /// <param name="left">The earlier state (base kernel, verified).</param>
    /// <param name="right">The later state (the combination, received).</param>
    /// <param name="leftLabel">What the left map is.</param>
    /// <param name="rightLabel">What the right map is.</param>
    public static string RenderSideBySide(string title, MapPicture left, MapPicture right, string leftLabel, string rightLabel)
    {
        var changed = ChangedCells(left, right, out int count);
        int width = Pad + LabelWidth + PanelWidth + PanelGap + PanelWidth + Pad;
        var body = new StringBuilder();
        int y = Pad;
        Text(body, Pad, y + 13, title, "font-size=\"14\" font-weight=\"bold\"");
        y += LineHeight;
        Text(body, Pad, y + 12, count == 0 ? "no cell differs" : $"{count} {(count == 1 ? "cell differs" : "cells differ")} (outlined)", "");
        y += LineHeight + 2;
        int x1 = Pad + LabelWidth, x2 = x1 + PanelWidth + PanelGap;
        Text(body, x1, y + 12, leftLabel, "font-weight=\"bold\"");
        Text(body, x2, y + 12, rightLabel, "font-weight=\"bold\"");
        y += LineHeight + 4;

        // Rows of both, matched by start address; a row on one side only is all changed.
        var keys = left.Rows.Select(r => r.Start).Union(right.Rows.Select(r => r.Start)).Order().ToList();
        var l = Align(left, keys);
        var r = Align(right, keys);
        int yl = Rows(body, l, y, x1, changed, true);
        int yr = Rows(body, r, y, x2, changed, false);
        y = Math.Max(yl, yr);
        int legendEnd = Legend(body, right, y + 6, Pad, width - 2 * Pad, true);
        int yn1 = Notes(body, left.Notes, legendEnd, x1, PanelWidth + PanelGap);
        int yn2 = Notes(body, right.Notes, legendEnd, x2, PanelWidth);
        return Document(width, Math.Max(yn1, yn2) + Pad, body);
    }

    /// <summary>Per row start, the cells that differ between the two maps; a row one side lacks differs in every cell the other has.</summary>
    public static Dictionary<ulong, bool[]> ChangedCells(MapPicture left, MapPicture right, out int count)
    {
        var known = left.Marks & right.Marks;
        bool sameSource = left.Marks == right.Marks && left.Kinds.SequenceEqual(right.Kinds);
        var lr = left.Rows.ToDictionary(r => r.Start);
        var rr = right.Rows.ToDictionary(r => r.Start);
        var result = new Dictionary<ulong, bool[]>();
        count = 0;
        foreach (var key in lr.Keys.Union(rr.Keys))
        {
            var a = lr.TryGetValue(key, out var ra) ? ra.Cells : [];
            var b = rr.TryGetValue(key, out var rb) ? rb.Cells : [];
            var diff = new bool[Math.Max(a.Count, b.Count)];
            for (int i = 0; i < diff.Length; i++)
            {
                if (i >= a.Count || i >= b.Count)
                    diff[i] = true;
                else
                    diff[i] = a[i].Kind != b[i].Kind || ((a[i].Marks ^ b[i].Marks) & known) != 0 || (sameSource && a[i].Detail != b[i].Detail);
                if (diff[i])
                    count++;
            }
            result[key] = diff;
        }
        return result;
    }

    private static MapPicture Align(MapPicture p, List<ulong> keys)
    {
        var byStart = p.Rows.ToDictionary(r => r.Start);
        return p with { Rows = [.. keys.Select(k => byStart.TryGetValue(k, out var r) ? r : new MapRow(k, "", []))] };
    }

    private static int Rows(StringBuilder sb, MapPicture p, int y, int x0, Dictionary<ulong, bool[]>? changed, bool labels)
    {
        int h = CellHeight(p);
        foreach (var row in p.Rows)
        {
            if (labels)
            {
                string label = row.Label.Length > 0 ? row.Label : ByteSize.Hex(row.Start);
                Text(sb, x0 - 6, y + LeafHeight, label, "text-anchor=\"end\"");
            }
            var cells = row.Cells;
            for (int i = 0; i < cells.Count;)
            {
                int j = i + 1;
                while (j < cells.Count && cells[j] == cells[i])
                    j++;
                Run(sb, p, row, i, j, x0, y);
                i = j;
            }
            if (changed is not null && changed.TryGetValue(row.Start, out var diff))
            {
                for (int i = 0; i < diff.Length;)
                {
                    if (!diff[i])
                    {
                        i++;
                        continue;
                    }
                    int j = i;
                    while (j < diff.Length && diff[j])
                        j++;
                    sb.Append("<rect class=\"changed\" x=\"").Append(x0 + i * CellWidth - 1).Append("\" y=\"").Append(y - 1)
                      .Append("\" width=\"").Append((j - i) * CellWidth + 2).Append("\" height=\"").Append(h + 2)
                      .Append("\" fill=\"none\" stroke=\"").Append(ChangedColour).Append("\" stroke-width=\"1\"/>\n");
                    i = j;
                }
            }
            y += h + RowGap;
        }
        return y;
    }

    private static void Run(StringBuilder sb, MapPicture p, MapRow row, int from, int to, int x0, int y)
    {
        var cell = row.Cells[from];
        ulong start = row.Start + (ulong)from * p.CellBytes;
        ulong end = row.Start + (ulong)to * p.CellBytes;
        int x = x0 + from * CellWidth, w = (to - from) * CellWidth;
        string span = to - from == 1 ? "" : $" ({to - from} cells, each)";
        sb.Append("<g><title>").Append(Escape($"{ByteSize.Hex(start)}-{ByteSize.Hex(end)}{span}: {cell.Detail}")).Append("</title>");
        sb.Append("<rect x=\"").Append(x).Append("\" y=\"").Append(y).Append("\" width=\"").Append(w).Append("\" height=\"").Append(LeafHeight)
          .Append("\" fill=\"").Append(p.Kinds[cell.Kind].Colour).Append("\"/>");
        for (int b = 0; b < 5; b++)
            if (((int)cell.Marks & (1 << b)) != 0)
                sb.Append("<rect x=\"").Append(x).Append("\" y=\"").Append(y + LeafHeight + b * StripHeight).Append("\" width=\"").Append(w)
                  .Append("\" height=\"").Append(StripHeight).Append("\" fill=\"").Append(MarkColours[b]).Append("\"/>");
        sb.Append("</g>\n");
    }

    private static int Legend(StringBuilder sb, MapPicture p, int y, int x0, int width, bool withChanged)
    {
        var items = new List<(string Swatch, string Label)>();
        foreach (var k in p.Kinds)
            items.Add(($"<rect x=\"{{0}}\" y=\"{{1}}\" width=\"12\" height=\"12\" fill=\"{k.Colour}\" stroke=\"#888888\" stroke-width=\"0.5\"/>", k.Label));
        for (int b = 0; b < 5; b++)
            if (((int)p.Marks & (1 << b)) != 0)
                items.Add(($"<rect x=\"{{0}}\" y=\"{{2}}\" width=\"12\" height=\"{StripHeight * 2}\" fill=\"{MarkColours[b]}\"/>",
                    $"strip {b + 1}: {DirectMapPicture.MarkNames[b]}"));
        if (withChanged)
            items.Add(($"<rect x=\"{{0}}\" y=\"{{1}}\" width=\"12\" height=\"12\" fill=\"none\" stroke=\"{ChangedColour}\" stroke-width=\"1\"/>", "changed"));
        int x = x0;
        foreach (var (swatch, label) in items)
        {
            int w = 12 + 6 + label.Length * CharWidth + 18;
            if (x > x0 && x + w > x0 + width)
            {
                x = x0;
                y += LineHeight + 2;
            }
            sb.Append(string.Format(CultureInfo.InvariantCulture, swatch, x, y, y + 5)).Append('\n');
            Text(sb, x + 18, y + 11, label, "");
            x += w;
        }
        return y + LineHeight + 8;
    }

    private static int Notes(StringBuilder sb, IReadOnlyList<string> notes, int y, int x, int maxWidth = 0)
    {
        foreach (var n in notes)
        {
            // Long notes wrap at word boundaries into the panel's width.
            int maxChars = maxWidth > 0 ? maxWidth / CharWidth : int.MaxValue;
            foreach (var line in Wrap(n, maxChars))
            {
                Text(sb, x, y + 11, line, "fill=\"#333333\"");
                y += LineHeight;
            }
        }
        return y;
    }

    private static IEnumerable<string> Wrap(string s, int maxChars)
    {
        var line = new StringBuilder();
        foreach (var word in s.Split(' '))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > maxChars)
            {
                yield return line.ToString();
                line.Clear();
            }
            if (line.Length > 0)
                line.Append(' ');
            line.Append(word);
        }
        if (line.Length > 0)
            yield return line.ToString();
    }

    private static void Text(StringBuilder sb, int x, int y, string text, string attrs) =>
        sb.Append("<text x=\"").Append(x).Append("\" y=\"").Append(y).Append('"').Append(attrs.Length > 0 ? " " + attrs : "").Append('>')
          .Append(Escape(text)).Append("</text>\n");

    private static string Document(int width, int height, StringBuilder body) =>
        $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"monospace\" font-size=\"12\" shape-rendering=\"crispEdges\">\n"
        + $"<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>\n"
        + body + "</svg>\n";

    /// <summary>A heading line as a document of its own, to stack over maps.</summary>
    public static string Heading(string text)
    {
        var body = new StringBuilder();
        Text(body, Pad, Pad + 14, text, "font-size=\"16\" font-weight=\"bold\"");
        return Document(Pad + text.Length * 11 + Pad, Pad + 22, body);
    }

    /// <summary>Several SVG documents of this class one under another, as one document.</summary>
    public static string Stack(IReadOnlyList<string> documents)
    {
        var body = new StringBuilder();
        int width = 0, y = 0;
        foreach (var doc in documents)
        {
            var m = System.Text.RegularExpressions.Regex.Match(doc, "^<svg [^>]*width=\"(\\d+)\" height=\"(\\d+)\"");
            int w = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), h = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            body.Append("<svg x=\"0\" y=\"").Append(y).Append('"').Append(doc[4..]);
            width = Math.Max(width, w);
            y += h;
        }
        return Document(Math.Max(width, 1), Math.Max(y, 1), body);
    }

    /// <summary>XML text and attribute escaping.</summary>
    public static string Escape(string s) =>
        s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;");
}
