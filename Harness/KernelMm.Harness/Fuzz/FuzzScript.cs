using System.Text;
using System.Text.RegularExpressions;
using KernelMm.Patches;

namespace KernelMm.Harness.Fuzz;

/// <summary>
/// A workload as a ready-to-run <c>.csx</c> scenario: the calls it made, in order, each
/// handle a variable. A call that failed with an errno in some combination is wrapped in
/// <c>Try</c> (the kernel's answer, not an error of the script); a handle that some
/// combination did not get (its call failed) is guarded where it is used. Run under every
/// combination of the series to learn both.
/// </summary>
public static partial class FuzzScript
{
    public static string Render(FuzzProgram program, FuzzFailure? failure, Series? series = null)
    {
        series ??= Series.Posted;
        var runs = series.Combinations().Select(c => new FuzzExecutor(c).Run(program)).ToList();
        return Render(program, runs, failure ?? runs.Select(r => r.Failure).FirstOrDefault(f => f is not null));
    }

    public static string Render(FuzzProgram program, IReadOnlyList<FuzzExecutor> runs, FuzzFailure? failure)
    {
        var sb = new StringBuilder();
        if (failure is not null)
        {
            sb.Append("// Found by kmm fuzz: ").Append(OneLine(failure.What)).Append('\n');
            sb.Append($"// under [patches: {failure.Combination.Label}], after call {failure.Step + 1}: {Plain(failure.Line)}\n");
            sb.Append($"// Reproduce: kmm show THIS.csx --patches {(failure.Combination.Mask == 0 ? "none" : failure.Combination.Label)}\n");
        }
        else
        {
            sb.Append("// A random workload from kmm fuzz (no finding).\n");
        }
        var head = sb.ToString();
        sb.Clear();
        var b = program.Boot;
        sb.Append($"Boot(memory: {b.MemoryBytes >> 20}.MiB(), cpus: {b.Cpus}, gbpages: {Bool(b.GbPages)}, pti: {Bool(b.Pti)}, protectPageTables: {Bool(b.ProtectPageTables)});\n");

        int steps = runs.Max(r => r.Results.Count);
        var nullable = new HashSet<string>();
        for (int i = 0; i < steps; i++)
        {
            string? line = null;
            bool errno = false, creates = false, missing = false;
            string? handle = null;
            foreach (var r in runs)
            {
                if (i >= r.Results.Count)
                    continue;
                var res = r.Results[i];
                if (res.Line is null)
                {
                    missing = true;
                    continue;
                }
                line ??= res.Line;
                errno |= res.Errno;
                creates |= res.CreatesHandle;
                handle ??= res.Handle;
            }
            if (line is null)
                continue;
            var used = Handles().Matches(line).Select(m => m.Groups[1].Value).Distinct().ToList();
            var guards = used.Where(nullable.Contains).ToList();
            string text = Handles().Replace(line, m => nullable.Contains(m.Groups[1].Value) && IsValue(m.Groups[1].Value) ? m.Groups[1].Value + ".Value" : m.Groups[1].Value);
            string guard = guards.Count == 0 ? "" : $"if ({string.Join(" && ", guards.Select(g => $"{g} != null"))}) ";
            if (creates && handle is not null)
            {
                string expr = text[(text.IndexOf(" = ", StringComparison.Ordinal) + 3)..];
                if (errno || missing || guards.Count > 0)
                {
                    nullable.Add(handle);
                    sb.Append($"{TypeOf(handle)} {handle} = null;\n");
                    sb.Append($"{guard}Try(() => {handle} = {expr});\n");
                }
                else
                {
                    sb.Append($"var {handle} = {expr};\n");
                }
                continue;
            }
            sb.Append(errno ? $"{guard}Try(() => {text});\n" : $"{guard}{text};\n");
        }
        string body = sb.ToString();
        if (!body.Contains("Try(", StringComparison.Ordinal))
            return head + body;
        return head
            + "using KernelMm.Model;\n"
            + "// The kernel's errno is an answer here, not an error of the script.\n"
            + "static void Try(Action call) { try { call(); } catch (KernelErrnoException) { } }\n"
            + body;
    }

    private static string TypeOf(string handle) => handle switch
    {
        _ when handle.StartsWith("cg", StringComparison.Ordinal) => "ScriptMemcg",
        _ when handle.StartsWith("mod", StringComparison.Ordinal) => "ScriptModule",
        _ when handle.StartsWith("pg", StringComparison.Ordinal) => "long?",
        _ when handle.StartsWith('v') => "ulong?",
        _ => "ScriptProcess",
    };

    private static bool IsValue(string handle) => TypeOf(handle).EndsWith('?');

    private static string Bool(bool v) => v ? "true" : "false";

    private static string Plain(string line) => Handles().Replace(line, m => m.Groups[1].Value);

    private static string OneLine(string what)
    {
        string first = what.Split('\n')[0];
        return first.Length > 200 ? first[..200] + "..." : first;
    }

    [GeneratedRegex("\u0001([a-z]+[0-9]+)\u0002")]
    private static partial Regex Handles();
}
