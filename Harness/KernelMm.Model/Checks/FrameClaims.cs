using KernelMm.Model.Diagnostics;
using KernelMm.Model.Memory;

namespace KernelMm.Model.Checks;

/// <summary>
/// Who the kernel's structures say holds each frame, built by walking them (tables,
/// mappings, stacks, vmalloc areas, caches). Two different holders of one frame is a
/// double use; anonymous pages may be held by several mms (copy-on-write).
/// </summary>
internal sealed class FrameClaims(List<KernelWarning> findings)
{
    private readonly Dictionary<long, (PageOwnerKind Kind, string Who, int Count)> _claims = [];

    public int Count => _claims.Count;

    public void Claim(long pfn, PageOwnerKind kind, string who)
    {
        if (_claims.TryGetValue(pfn, out var c))
        {
            if (c.Kind == kind && kind == PageOwnerKind.UserAnon)
            {
                _claims[pfn] = (kind, c.Who, c.Count + 1);
                return;
            }
            findings.Add(new KernelWarning("double-use", $"pfn:{pfn:x5} is held as {c.Kind} by {c.Who} and as {kind} by {who}"));
            return;
        }
        _claims[pfn] = (kind, who, 1);
    }

    public bool TryGet(long pfn, out (PageOwnerKind Kind, string Who, int Count) claim) => _claims.TryGetValue(pfn, out claim);

    public IEnumerable<KeyValuePair<long, (PageOwnerKind Kind, string Who, int Count)>> All => _claims;
}
