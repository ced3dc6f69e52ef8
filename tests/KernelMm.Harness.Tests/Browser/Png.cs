using System.Buffers.Binary;
using System.IO.Compression;

namespace KernelMm.Harness.Tests.Browser;

/// <summary>
/// A decoded PNG (8-bit greyscale, RGB or RGBA, not interlaced: what Chromium's screenshots are),
/// enough to check a screenshot's size and colours without an image library.
/// </summary>
public sealed class Png
{
    private readonly byte[] _rgb;

    private Png(int width, int height, byte[] rgb)
    {
        Width = width;
        Height = height;
        _rgb = rgb;
    }

    public int Width { get; }
    public int Height { get; }

    /// <summary>The pixel's colour as 0xRRGGBB.</summary>
    public int this[int x, int y]
    {
        get
        {
            int i = (y * Width + x) * 3;
            return (_rgb[i] << 16) | (_rgb[i + 1] << 8) | _rgb[i + 2];
        }
    }

    /// <summary>How many pixels have each colour.</summary>
    public Dictionary<int, int> Histogram()
    {
        var h = new Dictionary<int, int>();
        for (int y = 0; y < Height; y++)
            for (int x = 0; x < Width; x++)
                h[this[x, y]] = h.GetValueOrDefault(this[x, y]) + 1;
        return h;
    }

    public static Png Decode(byte[] data)
    {
        if (data.Length < 8 || !data.AsSpan(0, 8).SequenceEqual(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 }))
            throw new InvalidDataException("not a PNG");
        int width = 0, height = 0, colourType = 0;
        var idat = new MemoryStream();
        for (int pos = 8; pos + 8 <= data.Length;)
        {
            int len = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(pos));
            string type = System.Text.Encoding.ASCII.GetString(data, pos + 4, 4);
            var body = data.AsSpan(pos + 8, len);
            if (type == "IHDR")
            {
                width = BinaryPrimitives.ReadInt32BigEndian(body);
                height = BinaryPrimitives.ReadInt32BigEndian(body[4..]);
                if (body[8] != 8 || body[12] != 0)
                    throw new InvalidDataException($"unsupported PNG: bit depth {body[8]}, interlace {body[12]}");
                colourType = body[9];
            }
            else if (type == "IDAT")
                idat.Write(body);
            else if (type == "IEND")
                break;
            pos += 12 + len;
        }
        int channels = colourType switch { 0 => 1, 2 => 3, 4 => 2, 6 => 4, _ => throw new InvalidDataException($"unsupported PNG colour type {colourType}") };
        idat.Position = 0;
        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        var raw = new MemoryStream();
        z.CopyTo(raw);
        var bytes = raw.ToArray();
        int stride = width * channels;
        var prev = new byte[stride];
        var cur = new byte[stride];
        var rgb = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            int filter = bytes[y * (stride + 1)];
            Array.Copy(bytes, y * (stride + 1) + 1, cur, 0, stride);
            for (int i = 0; i < stride; i++)
            {
                int a = i >= channels ? cur[i - channels] : 0, b = prev[i], c = i >= channels ? prev[i - channels] : 0;
                cur[i] = (byte)(cur[i] + filter switch
                {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => (a + b) / 2,
                    4 => Paeth(a, b, c),
                    _ => throw new InvalidDataException($"bad PNG filter {filter}"),
                });
            }
            for (int x = 0; x < width; x++)
            {
                int o = (y * width + x) * 3;
                if (channels >= 3)
                {
                    rgb[o] = cur[x * channels];
                    rgb[o + 1] = cur[x * channels + 1];
                    rgb[o + 2] = cur[x * channels + 2];
                }
                else
                {
                    rgb[o] = rgb[o + 1] = rgb[o + 2] = cur[x * channels];
                }
            }
            (prev, cur) = (cur, prev);
        }
        return new Png(width, height, rgb);
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }
}
