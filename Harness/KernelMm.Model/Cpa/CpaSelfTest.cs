using KernelMm.Model.Paging;
using static KernelMm.Model.Paging.PageBits;
using static KernelMm.Model.Paging.PageShifts;

namespace KernelMm.Model.Cpa;

/// <summary>
/// A port of arch/x86/mm/pat/cpa-test.c (CONFIG_CPA_DEBUG's "pageattr-test"): set the
/// CPA_TEST bit (SOFTW1) on random direct-map ranges through the three request kinds
/// (range, CPA_ARRAY, CPA_PAGES_ARRAY), check each page went to 4K with the bit, clear the
/// bits again, and check with print_split that the direct map still covers every pfn
/// below max_pfn_mapped exactly once. The random source is seeded, so a run is repeatable.
/// </summary>
public sealed class CpaSelfTest(Kernel k, int seed)
{
    private const int NTEST = 3 * 100;
    private const int NPAGES = 100;
    private const long LPS = 1L << PMD_SHIFT;
    private const long GPS = 1L << PUD_SHIFT;

    /// <summary>What print_split counted: 4K, 2M and 1G entries, executable ones, and pfns with no mapping.</summary>
    public readonly record struct SplitState(long Spg, long Lpg, long Gpg, long Exec, long Missed);

    /// <summary>The kernel's log lines of the run ("CPA self-test:", the split counts, errors, "ok.").</summary>
    public List<string> Messages { get; } = [];

    public int Failed { get; private set; }

    /// <summary>Split counts before, after setting, and after clearing.</summary>
    public SplitState Before { get; private set; }
    public SplitState AfterSet { get; private set; }
    public SplitState AfterClear { get; private set; }

    /// <summary>pageattr_test: returns true when it passed.</summary>
    public bool Run()
    {
        var rng = new Random(seed);
        Messages.Add("CPA self-test:");
        long maxPfn = k.MaxPfnMapped;
        var bm = new System.Collections.BitArray(checked((int)maxPfn));
        var addr = new ulong[NTEST];
        var len = new long[NTEST];

        Failed += PrintSplit(out var sa);
        Before = sa;

        for (int i = 0; i < NTEST; i++)
        {
            long pfn = rng.NextInt64(maxPfn);
            addr[i] = k.DirectMapAddress(pfn);
            len[i] = Math.Min(rng.Next(NPAGES), maxPfn - pfn - 1);
            if (len[i] == 0)
                len[i] = 1;

            var addrs = new List<ulong>();
            var pages = new List<long>();
            EntryRef pte = EntryRef.None;
            ulong pte0 = 0;
            int kk;
            for (kk = 0; kk < len[i]; kk++)
            {
                pte = k.lookup_address(addr[i] + (ulong)kk * PAGE_SIZE);
                ulong v = pte.IsNull ? 0 : k.Walker.Read(pte);
                if (pte.IsNull || pte_flags(v) == 0 || (v & _PAGE_PRESENT) == 0)
                {
                    addr[i] = 0;
                    break;
                }
                if (kk == 0)
                    pte0 = v;
                else if (pte_flags(v) != pte_flags(pte0))
                {
                    len[i] = kk;
                    break;
                }
                if (bm[(int)(pfn + kk)])
                {
                    len[i] = kk;
                    break;
                }
                bm[(int)(pfn + kk)] = true;
                addrs.Add(addr[i] + (ulong)kk * PAGE_SIZE);
                pages.Add(pfn + kk);
            }
            if (addr[i] == 0 || pte.IsNull || kk == 0)
            {
                addr[i] = 0;
                continue;
            }

            int err = 0;
            try
            {
                switch (i % 3)
                {
                    case 0:
                        k.SetMemory.Change("change_page_attr_set", addr[i], len[i], _PAGE_CPA_TEST, 0);
                        break;
                    case 1:
                        // cpa-test.c passes len[1] here (fixed upstream in 2025); the port uses len[i].
                        k.SetMemory.ChangeArray("change_page_attr_set", [.. addrs.Take((int)len[i])], _PAGE_CPA_TEST, 0);
                        break;
                    default:
                        k.SetMemory.ChangePagesArray("cpa_set_pages_array", [.. pages.Take((int)len[i])], _PAGE_CPA_TEST, 0);
                        break;
                }
            }
            catch (KernelErrnoException e)
            {
                err = -(int)e.Errno;
            }
            if (err < 0)
            {
                Messages.Add($"CPA {i} failed {err}");
                Failed++;
            }

            var after = k.lookup_address(addr[i]);
            ulong av = after.IsNull ? 0 : k.Walker.Read(after);
            if (after.IsNull || (pte_flags(av) & _PAGE_SOFTW1) == 0 || (av & _PAGE_PSE) != 0)
            {
                Messages.Add($"CPA {addr[i]:x}: bad pte {av:x}");
                Failed++;
            }
            if (after.Level != PageLevel.PG_LEVEL_4K)
            {
                Messages.Add($"CPA {addr[i]:x}: unexpected level {(int)after.Level}");
                Failed++;
            }
        }

        Failed += PrintSplit(out var sb);
        AfterSet = sb;

        for (int i = 0; i < NTEST; i++)
        {
            if (addr[i] == 0)
                continue;
            var pte = k.lookup_address(addr[i]);
            if (pte.IsNull)
            {
                Messages.Add($"CPA lookup of {addr[i]:x} failed");
                Failed++;
                continue;
            }
            try
            {
                k.SetMemory.Change("change_page_attr_clear", addr[i], len[i], 0, _PAGE_CPA_TEST);
            }
            catch (KernelErrnoException e)
            {
                Messages.Add($"CPA reverting failed: {-(int)e.Errno}");
                Failed++;
            }
            pte = k.lookup_address(addr[i]);
            ulong v = pte.IsNull ? 0 : k.Walker.Read(pte);
            if (pte.IsNull || (pte_flags(v) & _PAGE_SOFTW1) != 0)
            {
                Messages.Add($"CPA {addr[i]:x}: bad pte after revert {v:x}");
                Failed++;
            }
        }

        Failed += PrintSplit(out var sc);
        AfterClear = sc;
        Messages.Add(Failed == 0 ? "ok." : "NOT PASSED. Please report.");
        return Failed == 0;
    }

    /// <summary>print_split: walk every pfn below max_pfn_mapped through lookup_address and count the mapping sizes.</summary>
    private int PrintSplit(out SplitState s)
    {
        long spg = 0, lpg = 0, gpg = 0, exec = 0, missed = 0, i = 0;
        int err = 0;
        while (i < k.MaxPfnMapped)
        {
            ulong a = k.DirectMapAddress(i);
            var pte = k.lookup_address(a);
            if (pte.IsNull)
            {
                missed++;
                i++;
                continue;
            }
            ulong v = k.Walker.Read(pte);
            if (pte.Level == PageLevel.PG_LEVEL_1G)
            {
                gpg++;
                i += GPS / (long)PAGE_SIZE;
            }
            else if (pte.Level == PageLevel.PG_LEVEL_2M)
            {
                if ((v & _PAGE_PRESENT) != 0 && (v & _PAGE_PSE) == 0)
                {
                    Messages.Add($"{a:x} level 2 but not PSE {v:x}");
                    err = 1;
                }
                lpg++;
                i += LPS / (long)PAGE_SIZE;
            }
            else
            {
                spg++;
                i++;
            }
            if ((v & _PAGE_NX) == 0)
                exec++;
        }
        s = new SplitState(spg, lpg, gpg, exec, missed);
        Messages.Add($" 4k {spg} large {lpg} gb {gpg} x {exec} miss {missed}");
        long expected = (gpg * GPS + lpg * LPS) / (long)PAGE_SIZE + spg + missed;
        if (expected != i)
        {
            Messages.Add($"CPA max_pfn_mapped {k.MaxPfnMapped} but expected {expected}");
            return 1;
        }
        return err;
    }
}
