using System.Globalization;
using System.Text.RegularExpressions;
using KernelMm.Model;
using KernelMm.Model.Paging;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Harness.Pictures;

/// <summary>
/// The direct map's leaves, from one of two places:
/// <list type="bullet">
/// <item>the model's page tables at a checkpoint (<see cref="FromKernel"/>): every bit of every
/// entry, so the protection key and <c>_PAGE_KERNEL_4K</c> show, and a not-present entry is told
/// from a missing one;</item>
/// <item>the kernel page-table dump of a snapshot (<see cref="FromPtDump"/>): what a verified
/// file, a received file or a git revision's file carries. The dump prints the leaf level and
/// RW/ro, NX/x and presence, so those marks are exact; it prints neither the key nor the
/// software bits (its lines only split where they change), so those are unknown
/// (<see cref="Known"/>), and a blank line inside the map is taken as not present.</item>
/// </list>
/// </summary>
/// <param name="Leaves">Runs in physical order covering [0, <paramref name="Extent"/>).</param>
/// <param name="Extent">Bytes of physical address space the map covers (max_pfn_mapped, or the end of the dump's last mapped line).</param>
/// <param name="Known">The marks this source can tell.</param>
public sealed partial record DirectMapSource(IReadOnlyList<DirectMapLeaf> Leaves, ulong Extent, MapMarks Known)
{
    /// <summary>Reads the direct map from the kernel's own tables (init_top_pgt from PAGE_OFFSET), up to max_pfn_mapped.</summary>
    public static DirectMapSource FromKernel(Kernel k)
    {
        ulong extent = (ulong)k.MaxPfnMapped << PAGE_SHIFT;
        var leaves = new List<DirectMapLeaf>();
        void Add(ulong phys, ulong size, PageLevel level, ulong flags)
        {
            if (phys >= extent)
                return;
            size = Math.Min(size, extent - phys);
            var marks = level == PageLevel.PG_LEVEL_NONE ? MapMarks.None : Marks(flags);
            if (leaves.Count > 0 && leaves[^1] is var last && last.End == phys && last.Level == level && last.Marks == marks)
                leaves[^1] = last with { Size = last.Size + size };
            else
                leaves.Add(new DirectMapLeaf(phys, size, level, marks));
        }

        var pgd = k.Tables[k.InitTopPgt];
        for (ulong phys = 0; phys < extent;)
        {
            ulong va = KernelLayout.PAGE_OFFSET + phys;
            ulong pgdEntry = pgd[pgd_index(va)];
            if (pgd_none(pgdEntry))
            {
                ulong step = PGDIR_SIZE - (va & (PGDIR_SIZE - 1));
                Add(phys, step, PageLevel.PG_LEVEL_NONE, 0);
                phys += step;
                continue;
            }
            var pud = k.Tables[pte_pfn(pgdEntry)];
            ulong pudEntry = pud[pud_index(va)];
            if (pud_none(pudEntry) || (pudEntry & _PAGE_PSE) != 0) // a 1G leaf, present or not (pud_large needs PRESENT)
            {
                Add(phys, PUD_SIZE, pud_none(pudEntry) ? PageLevel.PG_LEVEL_NONE : PageLevel.PG_LEVEL_1G, pud_flags(pudEntry));
                phys += PUD_SIZE;
                continue;
            }
            var pmd = k.Tables[pud_pfn(pudEntry)];
            for (int i = 0; i < PTRS_PER_TABLE && phys < extent; i++, phys += PMD_SIZE)
            {
                ulong pmdEntry = pmd[i];
                if (pmd_none(pmdEntry) || pmd_large(pmdEntry))
                {
                    Add(phys, PMD_SIZE, pmd_none(pmdEntry) ? PageLevel.PG_LEVEL_NONE : PageLevel.PG_LEVEL_2M, pmd_flags(pmdEntry));
                    continue;
                }
                var pte = k.Tables[pmd_pfn(pmdEntry)];
                for (int j = 0; j < PTRS_PER_TABLE; j++)
                {
                    ulong e = pte[j];
                    Add(phys + (ulong)j * PAGE_SIZE, PAGE_SIZE, pte_none(e) ? PageLevel.PG_LEVEL_NONE : PageLevel.PG_LEVEL_4K, pte_flags(e));
                }
            }
        }
        return new DirectMapSource(leaves, extent, MapMarks.All);
    }

    /// <summary>The marks of one leaf's flags.</summary>
    public static MapMarks Marks(ulong flags)
    {
        var m = MapMarks.None;
        if ((flags & _PAGE_PRESENT) == 0)
            m |= MapMarks.NotPresent;
        else
        {
            if ((flags & _PAGE_RW) == 0)
                m |= MapMarks.ReadOnly;
            if ((flags & _PAGE_NX) == 0)
                m |= MapMarks.Exec;
        }
        if ((flags & _PAGE_PKEY_MASK) != 0)
            m |= MapMarks.Pkey;
        if ((flags & _PAGE_KERNEL_4K) != 0)
            m |= MapMarks.Kernel4K;
        return m;
    }

    /// <summary>
    /// Reads the direct map from a kernel page-table dump (the format of
    /// <c>arch/x86/mm/dump_pagetables.c</c>): the lines between PAGE_OFFSET and VMALLOC_START, up to the
    /// end of the last line that maps something. Null when the dump does not reach the direct map
    /// (a checkpoint that leaves the kernel dump out, or limits it to another range).
    /// </summary>
    public static DirectMapSource? FromPtDump(string dump)
    {
        var leaves = new List<DirectMapLeaf>();
        ulong extent = 0;
        foreach (var line in dump.Split('\n'))
        {
            var m = DumpLine().Match(line);
            if (!m.Success)
                continue;
            ulong start = ulong.Parse(m.Groups[1].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            ulong end = ulong.Parse(m.Groups[2].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            if (end <= KernelLayout.PAGE_OFFSET || start >= KernelLayout.VMALLOC_START)
                continue;
            start = Math.Max(start, KernelLayout.PAGE_OFFSET);
            end = Math.Min(end, KernelLayout.VMALLOC_START);
            string attrs = m.Groups[3].Value;
            bool blank = attrs.Trim().Length == 0;
            var level = m.Groups[4].Value switch
            {
                "pte" => PageLevel.PG_LEVEL_4K,
                "pmd" => PageLevel.PG_LEVEL_2M,
                "pud" => PageLevel.PG_LEVEL_1G,
                _ => PageLevel.PG_LEVEL_NONE, // a pgd (p4d) line is never a leaf on x86-64
            };
            // A blank line at pud or pgd level beyond the last mapped line is the end of RAM; one
            // inside the map is taken as not present (the dump prints both alike).
            var marks = blank ? MapMarks.NotPresent : PrintedMarks(attrs);
            if (level == PageLevel.PG_LEVEL_NONE)
                marks = MapMarks.None;
            leaves.Add(new DirectMapLeaf(start - KernelLayout.PAGE_OFFSET, end - start, level, marks));
            if (!blank && level != PageLevel.PG_LEVEL_NONE)
                extent = end - KernelLayout.PAGE_OFFSET;
        }
        if (extent == 0)
            return null;
        var inside = leaves.Where(l => l.Phys < extent).Select(l => l.End > extent ? l with { Size = extent - l.Phys } : l).ToList();
        return new DirectMapSource(inside, extent, MapMarks.Printed);
    }

    // printk_prot's columns: USR, RW|ro, PWT, PCD, PSE, PAT, GLB, NX|x.
    private static MapMarks PrintedMarks(string attrs)
    {
        var m = MapMarks.None;
        var words = attrs.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Contains("ro"))
            m |= MapMarks.ReadOnly;
        if (words.Contains("x"))
            m |= MapMarks.Exec;
        return m;
    }

    // "0xffff888000200000-0xffff888001000000          14M     RW         PSE         NX pmd"
    [GeneratedRegex(@"^0x([0-9a-f]{16})-0x([0-9a-f]{16}) +\d+[BKMGTPE] (.*?) ?(pgd|p4d|pud|pmd|pte)$")]
    private static partial Regex DumpLine();
}
