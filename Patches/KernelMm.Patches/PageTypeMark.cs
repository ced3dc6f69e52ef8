using KernelMm.Model;
using KernelMm.Model.Memory;

namespace KernelMm.Patches;

/// <summary>
/// __SetPageKmem (2015) and __SetPageKmemcg (4.7+), one mechanism under two names: a page
/// type is a value of _mapcount, set only on a page whose _mapcount is -1
/// (VM_BUG_ON_PAGE otherwise: recorded under the caller's warning kind, the page left unmarked).
/// </summary>
internal static class PageTypeMark
{
    public static void Set(Kernel k, long pfn, int value, string kind)
    {
        ref var p = ref k.Frames[pfn];
        if (p.MapCount != MapcountValues.Unmapped)
        {
            k.Log.Warn(kind, $"VM_BUG_ON_PAGE(atomic_read(&page->_mapcount) != -1): pfn:{pfn:x5} mapcount {p.MapCount}");
            return;
        }
        p.MapCount = value;
    }
}
