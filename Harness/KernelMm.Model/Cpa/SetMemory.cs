using KernelMm.Model.Paging;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Model.Cpa;

/// <summary>
/// The set_memory_* API of arch/x86/mm/pat/set_memory.c (5.x masks): each is a
/// change_page_attr_set_clr with a set and a clear mask. A failure (ENOMEM, EFAULT) is
/// thrown with the errno, naming the call.
/// </summary>
public sealed class SetMemory(Kernel k)
{
    /// <summary>set_memory_ro: clear RW.</summary>
    public void ReadOnly(ulong addr, long numpages) => Change("set_memory_ro", addr, numpages, 0, _PAGE_RW);

    /// <summary>set_memory_rw: set RW.</summary>
    public void ReadWrite(ulong addr, long numpages) => Change("set_memory_rw", addr, numpages, _PAGE_RW, 0);

    /// <summary>set_memory_nx: set NX.</summary>
    public void NoExec(ulong addr, long numpages) => Change("set_memory_nx", addr, numpages, _PAGE_NX, 0);

    /// <summary>set_memory_x: clear NX.</summary>
    public void Exec(ulong addr, long numpages) => Change("set_memory_x", addr, numpages, 0, _PAGE_NX);

    /// <summary>
    /// set_memory_rox: x86's native one (6.2+), one request clearing RW and NX instead of
    /// set_memory_ro then set_memory_x; its CPA flags come from <see cref="RoxFlags"/>.
    /// </summary>
    public void ReadOnlyExec(ulong addr, long numpages) => Change("set_memory_rox", addr, numpages, 0, _PAGE_RW | _PAGE_NX, flags: RoxFlags);

    /// <summary>Seam: the CPA flags set_memory_rox passes (the 2025 collapse sets CPA_COLLAPSE). None in the base kernel.</summary>
    public CpaFlags RoxFlags { get; set; }

    /// <summary>set_memory_np: clear PRESENT (GLOBAL goes with it, as it would read as PROTNONE).</summary>
    public void NotPresent(ulong addr, long numpages) => Change("set_memory_np", addr, numpages, 0, _PAGE_PRESENT);

    /// <summary>set_memory_p: set PRESENT.</summary>
    public void Present(ulong addr, long numpages) => Change("set_memory_p", addr, numpages, _PAGE_PRESENT, 0);

    /// <summary>set_memory_global / set_memory_nonglobal.</summary>
    public void Global(ulong addr, long numpages) => Change("set_memory_global", addr, numpages, _PAGE_GLOBAL, 0);

    public void NonGlobal(ulong addr, long numpages) => Change("set_memory_nonglobal", addr, numpages, 0, _PAGE_GLOBAL);

    /// <summary>
    /// set_memory_4k: force the range to 4K pages, with no attribute change. The bits it
    /// also sets in patched kernels come from <see cref="FourKMaskSet"/>.
    /// </summary>
    public void FourK(ulong addr, long numpages) => Change("set_memory_4k", addr, numpages, FourKMaskSet, 0, forceSplit: true);

    /// <summary>Seam: what set_memory_4k sets besides splitting (restore-large-pages sets _PAGE_KERNEL_4K). 0 in the base kernel.</summary>
    public ulong FourKMaskSet { get; set; }

    /// <summary>Any other set/clear pair, as change_page_attr_set_clr (e.g. the cpa-test bit).</summary>
    public void Change(string call, ulong addr, long numpages, ulong set, ulong clr, bool forceSplit = false, CpaFlags flags = CpaFlags.None)
    {
        Validate(call, addr, numpages);
        if (numpages == 0)
            return;
        int ret = k.Cpa.change_page_attr_set_clr(new CpaData { Vaddr = [addr], NumPages = numpages, MaskSet = set, MaskClr = clr, ForceSplit = forceSplit, Flags = flags });
        if (ret != 0)
            throw new KernelErrnoException(call, (Errno)(-ret), $"0x{addr:x}, {numpages} pages");
    }

    /// <summary>A CPA_ARRAY request: one page at each address.</summary>
    public void ChangeArray(string call, ulong[] addrs, ulong set, ulong clr)
    {
        foreach (var a in addrs)
            Validate(call, a, 1);
        int ret = k.Cpa.change_page_attr_set_clr(new CpaData { Vaddr = [.. addrs], NumPages = addrs.Length, MaskSet = set, MaskClr = clr, Flags = CpaFlags.CPA_ARRAY });
        if (ret != 0)
            throw new KernelErrnoException(call, (Errno)(-ret));
    }

    /// <summary>A CPA_PAGES_ARRAY request: one page per pfn, addressed through the direct map.</summary>
    public void ChangePagesArray(string call, long[] pfns, ulong set, ulong clr)
    {
        int ret = k.Cpa.change_page_attr_set_clr(new CpaData { Vaddr = [0], Pages = [.. pfns], NumPages = pfns.Length, MaskSet = set, MaskClr = clr, Flags = CpaFlags.CPA_PAGES_ARRAY });
        if (ret != 0)
            throw new KernelErrnoException(call, (Errno)(-ret));
    }

    /// <summary>
    /// The kernel does not fail bad ranges here: an unaligned address gets a WARN and is
    /// aligned down (in change_page_attr_set_clr), zero pages do nothing, and an address
    /// with no mapping gets "CPA: called for zero pte" and -EFAULT.
    /// </summary>
    private static void Validate(string call, ulong addr, long numpages)
    {
        if (numpages < 0)
            throw new KernelErrnoException(call, Errno.EINVAL, $"{numpages} pages");
    }
}
