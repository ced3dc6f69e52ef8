namespace KernelMm.Patches;

/// <summary>
/// The shape of a patch id. Ids appear in formulas (<c>a &amp; !b | c</c>) and in
/// <c>--patches a,b</c>, so they must not contain the operators, commas or spaces, and
/// <c>all</c> and <c>none</c> are taken by the CLI and the formula printer.
/// </summary>
public static class PatchId
{
    public static string Validate(string id)
    {
        if (string.IsNullOrEmpty(id) || !id.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.'))
            throw new ArgumentException($"patch id '{id}' must be lowercase letters, digits, '-', '_' or '.'", nameof(id));
        if (id is "all" or "none")
            throw new ArgumentException($"patch id '{id}' is reserved", nameof(id));
        return id;
    }
}
