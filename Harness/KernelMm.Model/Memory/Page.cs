namespace KernelMm.Model.Memory;

/// <summary>
/// The model's <c>struct page</c>: 16 bytes. <see cref="Info"/> packs the page flags
/// (bits 0-15), the buddy or compound order (16-19), the owner kind (20-23) and the memcg
/// id (24-31). While a page heads a free buddy block, <see cref="Link0"/> and
/// <see cref="Link1"/> are its free-list next and previous pfns (the kernel's
/// <c>page-&gt;lru</c>, in a union as there); otherwise Link0 is the refcount
/// (<c>_refcount</c>) and Link1 the owner id.
/// </summary>
public struct Page
{
    public uint Info;
    public int Link0;
    public int MapCount;
    public int Link1;

    public PageFlags Flags
    {
        readonly get => (PageFlags)(Info & 0xffff);
        set => Info = (Info & ~0xffffu) | (ushort)value;
    }

    public int Order
    {
        readonly get => (int)((Info >> 16) & 0xf);
        set => Info = (Info & ~(0xfu << 16)) | ((uint)value & 0xf) << 16;
    }

    public PageOwnerKind OwnerKind
    {
        readonly get => (PageOwnerKind)((Info >> 20) & 0xf);
        set => Info = (Info & ~(0xfu << 20)) | ((uint)value & 0xf) << 20;
    }

    /// <summary>The memory cgroup charged for this page (0: none), the kernel's memcg_data.</summary>
    public int MemcgId
    {
        readonly get => (int)(Info >> 24);
        set => Info = (Info & 0x00ffffffu) | (uint)value << 24;
    }

    /// <summary>PageBuddy: the head of a free block, marked in _mapcount as 4.x does.</summary>
    public readonly bool IsBuddy => MapCount == MapcountValues.PAGE_BUDDY_MAPCOUNT_VALUE;

    /// <summary>page_ref_count: a page in the buddy allocator has none.</summary>
    public readonly int RefCount => IsBuddy ? 0 : Link0;

    /// <summary>The owner's id (pid, area, module...), meaningful while allocated.</summary>
    public readonly int OwnerId => IsBuddy ? 0 : Link1;

    /// <summary>A page of a never-touched free max-order block, or one just freed.</summary>
    public static Page Fresh => new() { MapCount = MapcountValues.Unmapped };

    public readonly bool Has(PageFlags f) => (Flags & f) != 0;
}
