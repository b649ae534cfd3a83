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
    public void Counting_Without_Ids_Should_Agree_With_Tracking_Ids_Including_Owed_Blocks()
    {
        // The same random reserves, frees, debts and settlements on a manager with ids and one without.
        Property.ForAll(Gen.Int[0, 7].Select(Gen.Int[1, 100]).Array[1, 200], ops =>
        {
            var withIds = new KvBlockManager(64, 8);
            var counting = new KvBlockManager(64, 8, trackIds: false);
            var requests = Enumerable.Range(0, 6).Select(i => new Request(i, 1, 1)).ToArray();
            var tokens = new int[6];
            foreach (var (op, grow) in ops)
            {
                var who = op % 6;
                if (op == 6)
                {
                    // Owe a block for request 0's growth, then settle it, as a standing batch would.
                    if (withIds.FreeBlocks == 0 || tokens[0] == 0) continue;
                    var target = (withIds.HeldBlocks(requests[0]) + 1) * 8;
                    withIds.Owe(1);
                    counting.Owe(1);
                    Assert.Equal(withIds.UsedBlocks, counting.UsedBlocks);
                    withIds.SettleOwed(requests[0], target);
                    counting.SettleOwed(requests[0], target);
                    tokens[0] = target;
                }
                else if (withIds.CanReserve(requests[who], tokens[who] + grow))
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
                Assert.All(requests, r => Assert.Equal(withIds.BlocksOf(r).Count, counting.HeldBlocks(r)));
            }
            Assert.Equal(0, counting.OwedBlocks);
            Assert.Throws<InvalidOperationException>(() => counting.BlocksOf(requests[0]));
        }, iterations: 300);
    }
}
