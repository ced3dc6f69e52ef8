namespace KernelMm.Model.Boot;

/// <summary>
/// The kernel image's sections at their physical load address (CONFIG_PHYSICAL_START,
/// 16 MiB) and in the high kernel mapping at __START_KERNEL_map. Sections are 2M aligned
/// so the high map is all 2M leaves, as vmlinux.lds.S aligns them with huge text pages.
/// </summary>
public sealed class KernelImage
{
    public const ulong PhysStart = KernelLayout.CONFIG_PHYSICAL_START;

    /// <summary>_text .. _etext: 12 MiB of text.</summary>
    public ulong _text => KernelLayout.__START_KERNEL;
    public ulong _etext => _text + (12UL << 20);
    /// <summary>__start_rodata .. __end_rodata (= __end_rodata_hpage_align here): 6 MiB.</summary>
    public ulong __start_rodata => _etext;
    public ulong __end_rodata => __start_rodata + (6UL << 20);
    public ulong __end_rodata_hpage_align => __end_rodata;
    /// <summary>_sdata .. _edata: 2 MiB.</summary>
    public ulong _sdata => __end_rodata;
    public ulong _edata => _sdata + (2UL << 20);
    /// <summary>__bss_start .. __bss_stop: 4 MiB.</summary>
    public ulong __bss_start => _edata;
    public ulong __bss_stop => __bss_start + (4UL << 20);
    /// <summary>__brk_base .. _brk_end: 2 MiB of early allocations.</summary>
    public ulong __brk_base => __bss_stop;
    public ulong _brk_end => __brk_base + (2UL << 20);
    public ulong _end => _brk_end;

    /// <summary>__pa_symbol: a high-map address to its physical address.</summary>
    public static ulong __pa_symbol(ulong va) => va - KernelLayout.__START_KERNEL_map;

    public long FirstPfn => (long)(__pa_symbol(_text) >> 12);
    public long EndPfn => (long)(__pa_symbol(_end) >> 12);

    /// <summary>
    /// init_top_pgt, level3_kernel_pgt and level2_kernel_pgt live in .data (head_64.S). With
    /// KAISER the pgd is 8 KiB: the kernel pgd, then its shadow (user) pgd at +4 KiB.
    /// </summary>
    public long InitTopPgtPfn => (long)(__pa_symbol(_sdata) >> 12);
    public long InitShadowPgtPfn => InitTopPgtPfn + 1;
    public long Level3KernelPgtPfn => InitTopPgtPfn + 2;
    public long Level2KernelPgtPfn => InitTopPgtPfn + 3;
    /// <summary>level2_fixmap_pgt and the FIXMAP_PMD_NUM pages of level1_fixmap_pgt, also in .data (head_64.S).</summary>
    public long Level2FixmapPgtPfn => InitTopPgtPfn + 4;
    public long Level1FixmapPgtPfn => InitTopPgtPfn + 5;
    /// <summary>FIXMAP_PMD_NUM (asm/fixmap.h): the fixmap's PTE pages.</summary>
    public const int FIXMAP_PMD_NUM = 2;
    /// <summary>The entry text (__entry_text_start..end) that KAISER maps into the shadow tables: 16 KiB at the start of text.</summary>
    public ulong __entry_text_start => _text + 0x600000;
    public ulong __entry_text_end => __entry_text_start + 0x4000;

    /// <summary>idt_table: one page in .data..page_aligned, user-mapped read-only by KAISER.</summary>
    public ulong idt_table => _sdata + 0x10000;

    /// <summary>empty_zero_page lives in .bss.</summary>
    public long EmptyZeroPagePfn => (long)(__pa_symbol(__bss_start) >> 12);

    /// <summary>espfix_pud_page: __page_aligned_bss in espfix_64.c, after empty_zero_page.</summary>
    public long EspfixPudPagePfn => EmptyZeroPagePfn + 1;

    /// <summary>debug_idt_table and trace_idt_table: gate_desc[NR_VECTORS] (one page each), __page_aligned_bss (4.9 traps.c, tracepoint.c).</summary>
    public ulong debug_idt_table => __bss_start + 0x2000;
    public ulong trace_idt_table => __bss_start + 0x3000;

    /// <summary>debug_idt_descr and trace_idt_descr: struct desc_ptr in .data, one page after idt_table.</summary>
    public ulong debug_idt_descr => idt_table + 0x1000;
    public ulong trace_idt_descr => debug_idt_descr + 0x10;

    /// <summary>X86_CR3_PCID_KERN_VAR: __aligned(PAGE_SIZE) in .data (4.9 kaiser.c).</summary>
    public ulong X86_CR3_PCID_KERN_VAR => idt_table + 0x2000;

    /// <summary>__cpa_pfn_in_highmap: the pfn is part of the image mapped at __START_KERNEL_map.</summary>
    public bool PfnInHighmap(long pfn) => pfn >= FirstPfn && pfn <= (long)(__pa_symbol(KernelLayout.RoundUp(_brk_end, 1UL << 21)) >> 12);
}
