using KernelMm.Model.Paging;
using static KernelMm.Model.Paging.PageBits;

namespace KernelMm.Model.Tests.Paging;

public class PageBitsTests
{
    [Test]
    public void EntryBitsAreTheHardwareBits()
    {
        Assert.Multiple(() =>
        {
            Assert.That(_PAGE_PRESENT, Is.EqualTo(1UL << 0));
            Assert.That(_PAGE_RW, Is.EqualTo(1UL << 1));
            Assert.That(_PAGE_USER, Is.EqualTo(1UL << 2));
            Assert.That(_PAGE_PWT, Is.EqualTo(1UL << 3));
            Assert.That(_PAGE_PCD, Is.EqualTo(1UL << 4));
            Assert.That(_PAGE_ACCESSED, Is.EqualTo(1UL << 5));
            Assert.That(_PAGE_DIRTY, Is.EqualTo(1UL << 6));
            Assert.That(_PAGE_PSE, Is.EqualTo(_PAGE_PAT), "bit 7 is PSE on PMD/PUD and PAT on a PTE");
            Assert.That(_PAGE_GLOBAL, Is.EqualTo(1UL << 8));
            Assert.That(_PAGE_CPA_TEST, Is.EqualTo(1UL << 9));
            Assert.That(_PAGE_KERNEL_4K, Is.EqualTo(1UL << 11));
            Assert.That(_PAGE_PAT_LARGE, Is.EqualTo(1UL << 12));
            Assert.That(_PAGE_SOFTW4, Is.EqualTo(1UL << 58));
            Assert.That(_PAGE_PKEY_MASK, Is.EqualTo(0xfUL << 59));
            Assert.That(_PAGE_NX, Is.EqualTo(1UL << 63));
        });
    }

    [Test]
    public void CompositeValuesMatchPgtableTypes()
    {
        Assert.Multiple(() =>
        {
            Assert.That(_KERNPG_TABLE, Is.EqualTo(0x63UL));
            Assert.That(_PAGE_TABLE, Is.EqualTo(0x67UL));
            Assert.That(__PAGE_KERNEL, Is.EqualTo(0x8000000000000163UL));
            Assert.That(__PAGE_KERNEL_EXEC, Is.EqualTo(0x163UL));
            Assert.That(__PAGE_KERNEL_LARGE, Is.EqualTo(0x80000000000001e3UL));
            Assert.That(__PAGE_KERNEL_RO, Is.EqualTo(0x8000000000000161UL), "5.x read-only keeps DIRTY");
        });
    }

    [Test]
    public void PfnAndFlagMasksSplitAnEntry()
    {
        ulong pte = pfn_pte(0x12345, __PAGE_KERNEL);
        Assert.Multiple(() =>
        {
            Assert.That(pte_pfn(pte), Is.EqualTo(0x12345));
            Assert.That(pte_flags(pte), Is.EqualTo(__PAGE_KERNEL));
            Assert.That(PTE_PFN_MASK, Is.EqualTo(0x000ffffffffff000UL));
            Assert.That(PTE_FLAGS_MASK, Is.EqualTo(0xfff0000000000fffUL));
        });
    }

    [Test]
    public void LargeLeafFlagsKeepBit12ButPteFlagsDoNot()
    {
        ulong pmd = pfn_pmd(512, __PAGE_KERNEL_LARGE | _PAGE_PAT_LARGE);
        Assert.Multiple(() =>
        {
            Assert.That(pmd_flags(pmd) & _PAGE_PAT_LARGE, Is.Not.Zero);
            Assert.That(pte_flags(pmd) & _PAGE_PAT_LARGE, Is.Zero);
            Assert.That(pmd_pfn(pmd), Is.EqualTo(512));
            Assert.That(pmd_large(pmd), Is.True);
        });
    }

    [Test]
    public void Pgprot4kToLargeMovesPatBit7ToBit12()
    {
        ulong small = __PAGE_KERNEL | _PAGE_PAT;
        ulong large = pgprot_4k_2_large(small);
        Assert.Multiple(() =>
        {
            Assert.That(large & _PAGE_PAT_LARGE, Is.Not.Zero);
            Assert.That(large & _PAGE_PSE, Is.Zero, "the caller adds PSE");
            Assert.That(pgprot_large_2_4k(large | _PAGE_PSE), Is.EqualTo(small), "large_2_4k drops PSE and moves 12 back to 7");
            Assert.That(pgprot_large_2_4k(__PAGE_KERNEL_LARGE), Is.EqualTo(__PAGE_KERNEL));
        });
    }

    [Test]
    public void PresenceHelpers()
    {
        Assert.Multiple(() =>
        {
            Assert.That(pte_none(0), Is.True);
            Assert.That(pte_present(_PAGE_PROTNONE), Is.True, "PROTNONE counts as present");
            Assert.That(pmd_present(_PAGE_PSE), Is.True, "a not-present huge pmd is still pmd_present");
            Assert.That(pud_present(_PAGE_PSE), Is.False);
            Assert.That(pte_write(__PAGE_KERNEL_RO), Is.False);
            Assert.That(pte_exec(__PAGE_KERNEL_EXEC), Is.True);
        });
    }

    [Test]
    public void IndexHelpersAndCanonicalAddresses()
    {
        ulong va = 0xffff888123456000;
        Assert.Multiple(() =>
        {
            Assert.That(PageShifts.pgd_index(va), Is.EqualTo(273));
            Assert.That(PageShifts.pud_index(va), Is.EqualTo(4));
            Assert.That(PageShifts.pmd_index(va), Is.EqualTo(0x11a));
            Assert.That(PageShifts.pte_index(va), Is.EqualTo(0x56));
            Assert.That(PageShifts.IsCanonical(0x0000800000000000), Is.False);
            Assert.That(PageShifts.Canonical(0x0000800000000000), Is.EqualTo(0xffff800000000000));
        });
    }
}
