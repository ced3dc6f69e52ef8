using System.Security.Cryptography;
using System.Text;

namespace KernelMm.Harness.Compilation;

/// <summary>
/// Compiled scenarios on disk, as dotnet-script keeps them: one folder per scenario and key
/// (a hash of the harness build, the script's path and its text) holding the image and a
/// manifest of the #loaded files with their hashes, checked on every hit, so an edited
/// helper recompiles its includers. Entries are written to a temporary folder and moved
/// into place, so concurrent runs never see half an entry; older entries of the same
/// script are removed when a new one is stored.
/// </summary>
internal sealed class CompileCache(string dir)
{
    private const string Image = "scenario.dll";
    private const string Manifest = "manifest.txt";

    public sealed record Entry(byte[] Image, string EntryType, string EntryMethod, IReadOnlyList<string> LoadedFiles);

    public static string KeyOf(string fullPath)
    {
        string text = Sha256(File.ReadAllBytes(fullPath));
        return Sha256(Encoding.UTF8.GetBytes($"kmm-compile-cache 1\n{HarnessBuild.Id}\n{fullPath}\n{text}\n"))[..32];
    }

    public Entry? TryLoad(string fullPath, string key)
    {
        string folder = Folder(fullPath, key);
        try
        {
            var lines = File.ReadAllLines(Path.Combine(folder, Manifest));
            string[] entry = lines[0].Split(' ');
            var loaded = new List<string>();
            foreach (var l in lines.Skip(1))
            {
                var parts = l.Split(' ', 3);
                if (!File.Exists(parts[2]) || Sha256(File.ReadAllBytes(parts[2])) != parts[1])
                    return null;
                loaded.Add(parts[2]);
            }
            return new Entry(File.ReadAllBytes(Path.Combine(folder, Image)), entry[1], entry[2], loaded);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException)
        {
            // Missing or damaged entry: compile again.
            return null;
        }
    }

    public void Store(string fullPath, string key, Entry entry)
    {
        try
        {
            Directory.CreateDirectory(dir);
            string tmp = Path.Combine(dir, "tmp-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(tmp);
            File.WriteAllBytes(Path.Combine(tmp, Image), entry.Image);
            var manifest = new StringBuilder($"entry {entry.EntryType} {entry.EntryMethod}\n");
            foreach (var f in entry.LoadedFiles)
                manifest.Append("load ").Append(Sha256(File.ReadAllBytes(f))).Append(' ').Append(f).Append('\n');
            File.WriteAllText(Path.Combine(tmp, Manifest), manifest.ToString());
            string folder = Folder(fullPath, key);
            try
            {
                if (Directory.Exists(folder))
                    Directory.Delete(folder, recursive: true);
                Directory.Move(tmp, folder);
            }
            catch (IOException)
            {
                // Another run stored the same entry first.
                Directory.Delete(tmp, recursive: true);
            }
            foreach (var old in Directory.EnumerateDirectories(dir, Prefix(fullPath) + "*"))
                if (old != folder)
                    Directory.Delete(old, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The cache is an optimisation: a read-only or contended folder just means compiling next time too.
        }
    }

    private string Folder(string fullPath, string key) => Path.Combine(dir, Prefix(fullPath) + key);

    // Entries of one script share a prefix (its name and a hash of its path) so old ones can be found and dropped.
    private static string Prefix(string fullPath) =>
        Path.GetFileNameWithoutExtension(fullPath) + "-" + Sha256(Encoding.UTF8.GetBytes(fullPath))[..8] + "-";

    private static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
}
