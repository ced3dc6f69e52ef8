namespace KernelMm.Model.Mm;

/// <summary>The flags of mremap (include/uapi/linux/mman.h).</summary>
[Flags]
public enum MremapFlags
{
    None = 0,

    /// <summary>MREMAP_MAYMOVE: the mapping may move when it cannot grow in place.</summary>
    MayMove = 1,

    /// <summary>MREMAP_FIXED: move to the new address given (replacing what is there); needs MayMove.</summary>
    Fixed = 2,
}
