using KernelMm.Model.Memory;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Boot;

/// <summary>
/// ESPfix64 (arch/x86/kernel/espfix_64.c, 4.9 and 5.x alike): init_espfix_bsp installs
/// espfix_pud_page (in .bss) at pgd_index(ESPFIX_BASE_ADDR) of init_top_pgt (and, with
/// KAISER, copies that pgd entry into the shadow pgd), then init_espfix_ap sets up each
/// CPU's ministack: one PMD page cloned into ESPFIX_PUD_CLONES pud entries, one PTE page
/// cloned into all ESPFIX_PMD_CLONES pmd entries, and one read-only stack page cloned into
/// every PTE_STRIDE-th pte, so that the 64-byte stack appears 65536 times, 64K apart.
/// ESPFIX_STACKS_PER_PAGE CPUs share a page; the tables are plain zeroed pages (no
/// constructor, so not in nr_page_table_pages) and are never freed.
/// </summary>
public sealed class Espfix
{
    public const ulong ESPFIX_STACK_SIZE = 8 * 8;
    public const ulong ESPFIX_STACKS_PER_PAGE = PAGE_SIZE / ESPFIX_STACK_SIZE;
    public const int PTE_STRIDE = (int)(65536 / PAGE_SIZE);
    public const int ESPFIX_PTE_CLONES = PTRS_PER_TABLE / PTE_STRIDE;
    public const int ESPFIX_PMD_CLONES = PTRS_PER_TABLE;
    public const int ESPFIX_PUD_CLONES = 65536 / (ESPFIX_PTE_CLONES * ESPFIX_PMD_CLONES);

    /// <summary>PGTABLE_PROT: table entries without RW, with NX.</summary>
    public const ulong PGTABLE_PROT = (_KERNPG_TABLE & ~_PAGE_RW) | _PAGE_NX;

    private readonly Kernel _k;
    private readonly Dictionary<ulong, long> _espfixPages = [];
    private readonly List<(long Pfn, PageOwnerKind Kind, string Who)> _held = [];
    private readonly ulong[] _espfixStack;
    private ulong _pageRandom, _slotRandom;

    internal Espfix(Kernel k)
    {
        _k = k;
        _espfixStack = new ulong[k.Options.Cpus];
        k.FrameClaimers.Add(() => _held);
    }

    /// <summary>per_cpu(espfix_stack, cpu): the bottom of the CPU's ministack (0 before init_espfix_ap).</summary>
    public ulong EspfixStack(int cpu) => _espfixStack[cpu];

    /// <summary>The pages ESPfix allocated: its PMD and PTE tables and the stack pages.</summary>
    public IReadOnlyList<(long Pfn, PageOwnerKind Kind, string Who)> Pages => _held;

    /// <summary>init_espfix_bsp, from mm_init (5.x) or start_kernel (4.9, after kaiser_init).</summary>
    internal void init_espfix_bsp()
    {
        int gi = pgd_index(KernelLayout.ESPFIX_BASE_ADDR);
        long pud = _k.Image.EspfixPudPagePfn;
        _k.Tables.Create(pud);
        var pgd = _k.Tables[_k.InitTopPgt];
        pgd[gi] = mk_table(pud, _KERNPG_TABLE);
        // "Just copy the top-level PGD that is mapping the espfix area to ensure it is
        // mapped into the shadow user page tables" (4.9 KAISER): over the PUD table
        // kaiser_init_all_pgds put there.
        _k.Kaiser?.ReplaceShadowPgd(gi, mk_table(pud, _KERNPG_TABLE));
        init_espfix_random();
        init_espfix_ap(0);
    }

    /// <summary>
    /// init_espfix_random: rdrand, else rdtsc() times a large prime. The model's CPU has no
    /// RDRAND and its TSC reads 0 this early, so both offsets are 0 on every boot.
    /// </summary>
    private void init_espfix_random()
    {
        const ulong rdtsc = 0;
        ulong rand = rdtsc * 0xc345c6b72fd16123UL;
        _slotRandom = rand % ESPFIX_STACKS_PER_PAGE;
        _pageRandom = (rand / ESPFIX_STACKS_PER_PAGE) & (ESPFIX_PAGE_SPACE - 1);
    }

    /// <summary>ESPFIX_PAGE_SPACE: 1 &lt;&lt; (P4D_SHIFT - PAGE_SHIFT - 16) pages of address space.</summary>
    public const ulong ESPFIX_PAGE_SPACE = 1UL << (39 - 12 - 16);

    /// <summary>espfix_base_addr: the CPU's page and slot, the address's upper bits shifted up 16 (each alias is 64K apart).</summary>
    public ulong espfix_base_addr(int cpu)
    {
        ulong page = ((ulong)cpu / ESPFIX_STACKS_PER_PAGE) ^ _pageRandom;
        ulong slot = ((ulong)cpu + _slotRandom) % ESPFIX_STACKS_PER_PAGE;
        ulong addr = (page << PAGE_SHIFT) + slot * ESPFIX_STACK_SIZE;
        addr = (addr & 0xffffUL) | ((addr & ~0xffffUL) << 16);
        return addr + KernelLayout.ESPFIX_BASE_ADDR;
    }

    /// <summary>init_espfix_ap: once per CPU; the tables and the stack page once per ESPFIX_STACKS_PER_PAGE CPUs.</summary>
    internal void init_espfix_ap(int cpu)
    {
        if (_espfixStack[cpu] != 0)
            return;
        ulong addr = espfix_base_addr(cpu);
        ulong page = (ulong)cpu / ESPFIX_STACKS_PER_PAGE;
        if (!_espfixPages.ContainsKey(page))
        {
            ulong ptemask = _k.__supported_pte_mask;
            var pudPage = _k.Tables[_k.Image.EspfixPudPagePfn];
            ulong pud = Populate(pudPage, pud_index(addr), pud_present, ESPFIX_PUD_CLONES, "ESPfix PMD table", ptemask);
            ulong pmd = Populate(_k.Tables[pte_pfn(pud)], pmd_index(addr), pmd_present, ESPFIX_PMD_CLONES, "ESPfix PTE table", ptemask);
            var ptePage = _k.Tables[pte_pfn(pmd)];
            long stack = Alloc(PageOwnerKind.Kernel, $"ESPfix stack page {page}");
            ulong pte = pfn_pte(stack, __PAGE_KERNEL_RO & ptemask);
            for (int n = 0; n < ESPFIX_PTE_CLONES; n++)
                ptePage[n * PTE_STRIDE] = pte;
            _espfixPages[page] = stack;
        }
        _espfixStack[cpu] = addr;
    }

    /// <summary>
    /// The entry at <paramref name="index"/>, or, where none is present, a new zeroed table
    /// page cloned into <paramref name="clones"/> entries from there (init_espfix_ap's
    /// pud and pmd steps): the entry either way.
    /// </summary>
    private ulong Populate(Paging.PageTable table, int index, Func<ulong, bool> present, int clones, string who, ulong ptemask)
    {
        ulong entry = table[index];
        if (present(entry))
            return entry;
        long pfn = Alloc(PageOwnerKind.KernelPageTable, who);
        _k.Tables.Create(pfn);
        entry = mk_table(pfn, PGTABLE_PROT & ptemask);
        for (int n = 0; n < clones; n++)
            table[index + n] = entry;
        return entry;
    }

    private long Alloc(PageOwnerKind kind, string who)
    {
        long pfn = _k.Buddy.AllocPages(0, GfpFlags.GFP_KERNEL | GfpFlags.__GFP_ZERO, kind);
        if (pfn < 0)
            throw new InvalidOperationException("init_espfix_ap: out of memory at boot");
        _held.Add((pfn, kind, who));
        return pfn;
    }
}
