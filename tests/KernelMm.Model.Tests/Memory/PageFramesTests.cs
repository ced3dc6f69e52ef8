using System.Runtime.CompilerServices;
using KernelMm.Model.Memory;

namespace KernelMm.Model.Tests.Memory;

public class PageFramesTests
{
    [Test]
    public void StructPageIs16Bytes() => Assert.That(Unsafe.SizeOf<Page>(), Is.EqualTo(16));

    [Test]
    public void FreeMaxOrderBlocksNeedNoPageArray()
    {
        var k = TestKernel.Boot(memory: 1L << 40);
        long chunks = k.Frames.MaxPfn >> PageFrames.ChunkShift;
        // 1 TiB: 262144 max-order blocks; only the reserved ones and the few used at boot have pages.
        Assert.That(k.Frames.MaterializedChunks, Is.LessThan(chunks / 50));
        Assert.That(k.Frames.Peek(k.Frames.MaxPfn / 2).IsBuddy, Is.True);
    }

    [Test]
    public void AChunkArrayReusedAfterItsBlockWasFreedStartsFresh()
    {
        // A chunk's page array is kept when its block merges back to max order and given to
        // the next chunk that materialises: nothing of the old pages may show through.
        var frames = new PageFrames(4 * PageFrames.ChunkPages);
        ref var used = ref frames[5];
        used.Link0 = 3;
        used.MapCount = 7;
        used.Flags = PageFlags.PG_dirty;
        var old = used;
        frames.Dematerialize(0);
        Assert.That(frames.IsPristine(5), Is.True);
        var p = frames[2 * PageFrames.ChunkPages + 5];
        Assert.Multiple(() =>
        {
            Assert.That(p, Is.EqualTo(Page.Fresh));
            Assert.That(frames.Peek(2 * PageFrames.ChunkPages).IsBuddy, Is.True, "the head of the new chunk is a free max-order block");
            Assert.That(frames.Peek(2 * PageFrames.ChunkPages).Order, Is.EqualTo(PageFrames.MAX_ORDER));
            Assert.That(frames.Peek(5), Is.Not.EqualTo(old), "the old chunk reads pristine");
        });
    }

    [Test]
    public void MapcountTypeValuesAreDistinctAndKeptTogether()
    {
        Assert.That(MapcountValues.TypeValues, Is.Unique);
        Assert.That(MapcountValues.TypeValues, Does.Not.Contain(MapcountValues.Unmapped));
        Assert.Multiple(() =>
        {
            Assert.That(MapcountValues.PAGE_BUDDY_MAPCOUNT_VALUE, Is.EqualTo(-128));
            Assert.That(MapcountValues.PAGE_BALLOON_MAPCOUNT_VALUE, Is.EqualTo(-256));
            Assert.That(MapcountValues.PAGE_KMEM_MAPCOUNT_VALUE, Is.EqualTo(-512));
        });
    }

    [Test]
    public void PagePacksFlagsOrderOwnerAndMemcgWithoutOverlap()
    {
        var p = Page.Fresh;
        p.Flags = PageFlags.PG_table | PageFlags.PG_reserved;
        p.Order = 10;
        p.OwnerKind = PageOwnerKind.UserPageTable;
        p.MemcgId = 200;
        Assert.Multiple(() =>
        {
            Assert.That(p.Flags, Is.EqualTo(PageFlags.PG_table | PageFlags.PG_reserved));
            Assert.That(p.Order, Is.EqualTo(10));
            Assert.That(p.OwnerKind, Is.EqualTo(PageOwnerKind.UserPageTable));
            Assert.That(p.MemcgId, Is.EqualTo(200));
        });
    }
}
