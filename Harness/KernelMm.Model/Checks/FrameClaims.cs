using KernelMm.Model.Diagnostics;
using KernelMm.Model.Memory;

namespace KernelMm.Model.Checks;

/// <summary>
/// Who the kernel's structures say holds each frame, built by walking them (tables,
/// mappings, stacks, vmalloc areas, caches). Two different holders of one frame is a
/// double use; anonymous pages may be held by several mms (copy-on-write).
/// Claims are kept in the order they were made, found by pfn through a directory of
/// max-order chunks (a machine's worth of claims costs no hashing).
/// </summary>
internal sealed class FrameClaims
{
    private const int ChunkShift = PageFrames.ChunkShift;
    private const int ChunkMask = PageFrames.ChunkPages - 1;

    // Every check builds a claim for each frame in use: lists of millions of claims, made
    // anew at each checkpoint, were the suite's largest garbage and its gen2 collections.
    // The checks of all running combinations share a few, cleared between uses.
    private static readonly System.Collections.Concurrent.ConcurrentBag<FrameClaims> Pool = [];
    private const int PoolLimit = 8, PooledClaimsLimit = 1 << 22;

    private List<KernelWarning> _findings;
    private readonly List<KeyValuePair<long, (PageOwnerKind Kind, string Who, int Count)>> _claims = [];

    private FrameClaims(List<KernelWarning> findings) => _findings = findings;

    /// <summary>An empty set of claims whose findings go to <paramref name="findings"/>; give it back with <see cref="Return"/>.</summary>
    public static FrameClaims Rent(List<KernelWarning> findings)
    {
        if (!Pool.TryTake(out var claims))
            return new FrameClaims(findings);
        claims._findings = findings;
        return claims;
    }

    /// <summary>Clears the claims and keeps them for the next check (unless the pool is full or they are huge).</summary>
    public void Return()
    {
        if (_claims.Count > PooledClaimsLimit || Pool.Count >= PoolLimit)
            return;
        foreach (var (pfn, _) in _claims)
            if ((ulong)pfn <= int.MaxValue)
                _slots[pfn >> ChunkShift]![pfn & ChunkMask] = 0;
        _far.Clear();
        _claims.Clear();
        _findings = [];
        Pool.Add(this);
    }
    // Slot + 1 of each claimed pfn, per chunk; pfns outside [0, 2^31) go to the dictionary (slot + 1 too).
    private int[]?[] _slots = [];
    private readonly Dictionary<long, int> _far = [];

    public int Count => _claims.Count;

    public void Claim(long pfn, PageOwnerKind kind, string who)
    {
        // One lookup: the pfn's slot + 1, in place (0: not claimed yet).
        ref int s = ref SlotRef(pfn);
        if (s == 0)
        {
            _claims.Add(new(pfn, (kind, who, 1)));
            s = _claims.Count;
            return;
        }
        var c = _claims[s - 1].Value;
        if (c.Kind == kind && kind == PageOwnerKind.UserAnon)
        {
            _claims[s - 1] = new(pfn, (kind, c.Who, c.Count + 1));
            return;
        }
        _findings.Add(new KernelWarning("double-use", $"pfn:{pfn:x5} is held as {c.Kind} by {c.Who} and as {kind} by {who}"));
    }

    public bool TryGet(long pfn, out (PageOwnerKind Kind, string Who, int Count) claim)
    {
        int slot = SlotOf(pfn);
        claim = slot >= 0 ? _claims[slot].Value : default;
        return slot >= 0;
    }

    /// <summary>The claims in the order they were made, in place (valid until the next claim).</summary>
    public ReadOnlySpan<KeyValuePair<long, (PageOwnerKind Kind, string Who, int Count)>> Span => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_claims);

    public bool IsClaimed(long pfn) => SlotOf(pfn) >= 0;

    private int SlotOf(long pfn)
    {
        if ((ulong)pfn > int.MaxValue)
            return _far.TryGetValue(pfn, out int s) ? s - 1 : -1;
        long chunk = pfn >> ChunkShift;
        if (chunk >= _slots.Length || _slots[chunk] is not { } slots)
            return -1;
        return slots[pfn & ChunkMask] - 1;
    }

    /// <summary>Where the slot + 1 of <paramref name="pfn"/> is kept, made (as 0) if it was not.</summary>
    private ref int SlotRef(long pfn)
    {
        if ((ulong)pfn > int.MaxValue)
            return ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_far, pfn, out _);
        long chunk = pfn >> ChunkShift;
        if (chunk >= _slots.Length)
            Array.Resize(ref _slots, (int)Math.Max(chunk + 1, _slots.Length * 2L));
        return ref (_slots[chunk] ??= new int[PageFrames.ChunkPages])[pfn & ChunkMask];
    }
}
