namespace KernelMm.Model.Paging;

/// <summary>
/// The last PTE table a walk of one mm reached, with the rights the levels above it give
/// (RW and USER ANDed, NX ORed): a fault and the access after it find the entry without
/// walking the pgd, pud and pmd again, as the hardware's paging-structure caches do (and
/// as the kernel's fault path keeps the pmd it allocated). Valid while the store's
/// <see cref="PageTableStore.Generation"/> is unchanged: any table freed or any present
/// entry re-pointed or stripped of rights anywhere invalidates it, so it never shows
/// anything the tables do not say.
/// </summary>
public sealed class PteTableCache
{
    internal long PgdPfn = -1;
    internal ulong Block = ulong.MaxValue;
    internal int Generation = -1;
    internal PageTable Table;
    internal long TablePfn = -1;
    internal ulong Eff;
    internal ulong Nx;

    /// <summary>Whether the cache holds the PTE table that maps <paramref name="va"/> under <paramref name="pgdPfn"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal bool Covers(PageTableStore store, long pgdPfn, ulong va) =>
        Generation == store.Generation && PgdPfn == pgdPfn && Block == va >> PageShifts.PMD_SHIFT;

    /// <summary>Whether <see cref="Table"/> is the table in frame <paramref name="tablePfn"/>, still valid.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal bool Holds(PageTableStore store, long tablePfn) => TablePfn == tablePfn && Generation == store.Generation;

    internal void Fill(PageTableStore store, long pgdPfn, ulong va, PageTable table, long tablePfn, ulong eff, ulong nx)
    {
        Generation = store.Generation;
        PgdPfn = pgdPfn;
        Block = va >> PageShifts.PMD_SHIFT;
        Table = table;
        TablePfn = tablePfn;
        Eff = eff;
        Nx = nx;
    }
}
