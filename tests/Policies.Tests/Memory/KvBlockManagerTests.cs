using CsCheck;
using Policies.Core;
using Policies.Memory;

namespace Policies.Tests.Memory;

public sealed class KvBlockManagerTests
{
    [Fact]
    public void Reserve_Should_Allocate_Whole_Blocks_As_Tokens_Grow()
    {
        var blocks = new KvBlockManager(10, 16);
        var request = new Request(1, 20, 5);

        blocks.Reserve(request, 16);
        Assert.Single(blocks.BlocksOf(request));
        blocks.Reserve(request, 17);
        Assert.Equal(2, blocks.BlocksOf(request).Count);
        blocks.Reserve(request, 32);
        Assert.Equal(2, blocks.BlocksOf(request).Count);
        Assert.Equal(8, blocks.FreeBlocks);

        blocks.Free(request);
        Assert.Empty(blocks.BlocksOf(request));
        Assert.Equal(10, blocks.FreeBlocks);
    }

    [Fact]
    public void CanReserve_Should_Respect_The_Reserve_And_Reserve_Should_Refuse_Overcommit()
    {
        var blocks = new KvBlockManager(4, 16);
        var request = new Request(1, 20, 5);
        Assert.True(blocks.CanReserve(request, 64));
        Assert.False(blocks.CanReserve(request, 64, reserveBlocks: 1));
        Assert.False(blocks.CanReserve(request, 65));
        Assert.Throws<InvalidOperationException>(() => blocks.Reserve(request, 65));
        Assert.Equal(4, blocks.FreeBlocks);
    }

    [Fact]
    public void Every_Block_Should_Be_Free_Or_Owned_By_Exactly_One_Request()
    {
        Property.ForAll(Gen.Int[0, 5].Select(Gen.Int[1, 100]).Array[1, 200], ops =>
        {
            var blocks = new KvBlockManager(64, 8);
            var requests = Enumerable.Range(0, 6).Select(i => new Request(i, 1, 1)).ToArray();
            var tokens = new int[6];
            foreach (var (who, grow) in ops)
            {
                var target = tokens[who] + grow;
                if (blocks.CanReserve(requests[who], target))
                {
                    blocks.Reserve(requests[who], target);
                    tokens[who] = target;
                }
                else
                {
                    blocks.Free(requests[who]);
                    tokens[who] = 0;
                }
                var owned = requests.SelectMany(r => blocks.BlocksOf(r)).ToList();
                if (owned.Count != owned.Distinct().Count()) return false;
                if (owned.Count + blocks.FreeBlocks != blocks.TotalBlocks) return false;
            }
            return true;
        }, iterations: 300);
    }

    [Fact]
    public void Counting_Without_Ids_Should_Agree_With_Tracking_Ids_Whatever_The_Request_Ids()
    {
        // The same random reserves and frees on a manager with ids and one without, for requests whose ids repeat, are negative or large
        // (tables are looked up by id, then by the request itself).
        Property.ForAll(Gen.Int[0, 5].Select(Gen.Int[1, 100]).Array[1, 200], ops =>
        {
            var withIds = new KvBlockManager(64, 8);
            var counting = new KvBlockManager(64, 8, trackIds: false);
            Request[] requests = [new(0, 1, 1), new(0, 1, 1), new(-3, 1, 1), new(1 << 25, 1, 1), new(4, 1, 1), new(100_000, 1, 1)];
            var tokens = new int[requests.Length];
            foreach (var (who, grow) in ops)
            {
                if (withIds.CanReserve(requests[who], tokens[who] + grow))
                {
                    Assert.True(counting.TryReserve(requests[who], tokens[who] + grow));
                    withIds.Reserve(requests[who], tokens[who] + grow);
                    tokens[who] += grow;
                }
                else
                {
                    Assert.False(counting.CanReserve(requests[who], tokens[who] + grow));
                    withIds.Free(requests[who]);
                    counting.Free(requests[who]);
                    tokens[who] = 0;
                }
                Assert.Equal(withIds.FreeBlocks, counting.FreeBlocks);
                for (var r = 0; r < requests.Length; r++)
                {
                    Assert.Equal(withIds.BlocksFor(tokens[r]), counting.HeldBlocks(requests[r]));
                    Assert.Equal(withIds.BlocksOf(requests[r]).Count, counting.HeldBlocks(requests[r]));
                }
            }
            var owned = requests.SelectMany(withIds.BlocksOf).ToList();
            Assert.Equal(owned.Count, owned.Distinct().Count());
            Assert.Equal(withIds.TotalBlocks, owned.Count + withIds.FreeBlocks);
            Assert.Throws<InvalidOperationException>(() => counting.BlocksOf(requests[0]));
        }, iterations: 300);
    }
}
