using Policies.Core;
using Policies.DistServe;
using Policies.FastGen;
using Policies.Memory;
using Policies.Orca;
using Policies.Sarathi;

namespace Policies.Tests.Baselines;

/// <summary>Hand-made situations where each baseline's right decision is known.</summary>
public sealed class BaselinePolicyTests
{
    [Fact]
    public void Orca_Should_Reserve_The_Maximum_Length_And_Mix_Prefill_With_Decodes()
    {
        var blocks = new KvBlockManager(1000, 16);
        var policy = new OrcaPolicy(new OrcaOptions(MaxSequenceTokens: 512), new PolicyContext(blocks));
        var first = new Request(0, 100, 50);
        policy.Enqueue(first);
        Driver.Execute(policy, policy.Schedule(0));
        Assert.Equal(32, blocks.BlocksOf(first).Count); // 512 tokens reserved, not 100

        policy.Enqueue(new Request(1, 200, 1000));
        var batch = policy.Schedule(0);

        Assert.Equal([(0, 1), (1, 200)], batch.Entries.Select(e => (e.Request.Id, e.NewTokens)));
        Assert.Equal(32 + 75, blocks.UsedBlocks); // the long one reserves its own 1,199-token maximum
    }

    [Fact]
    public void Sarathi_Should_Put_Decodes_First_Then_Continue_The_Prefill_With_Its_Whole_Prompt_Allocated()
    {
        var blocks = new KvBlockManager(1000, 16);
        var policy = new SarathiPolicy(new SarathiOptions(TokenBudget: 100), new PolicyContext(blocks));
        policy.Enqueue(new Request(0, 10, 20));
        Driver.Execute(policy, policy.Schedule(0));
        policy.Enqueue(new Request(1, 30, 5));
        var chunked = new Request(2, 500, 5);
        policy.Enqueue(chunked);
        policy.Enqueue(new Request(3, 40, 5));

        var first = policy.Schedule(0);
        Assert.Equal([(0, 1), (1, 30), (2, 69)], first.Entries.Select(e => (e.Request.Id, e.NewTokens)));
        Assert.Equal(32, blocks.BlocksOf(chunked).Count); // all 500 prompt tokens, as Sarathi-Serve's can_allocate/allocate
        Driver.Execute(policy, first);

        // The decodes first, then the prefill in progress with the rest of the budget; 3 waits for budget.
        var second = policy.Schedule(0);
        Assert.Equal([(0, 1), (1, 1), (2, 98)], second.Entries.Select(e => (e.Request.Id, e.NewTokens)));
        Assert.Equal(32, blocks.BlocksOf(chunked).Count);
    }

    [Fact]
    public void Sarathi_Should_Not_Admit_A_Prompt_Whose_Whole_Prompt_Does_Not_Fit()
    {
        // 40 blocks of 16 tokens, 1% watermark (0 blocks): a 700-token prompt needs 44 blocks, so it waits, chunk or no chunk.
        var blocks = new KvBlockManager(40, 16);
        var policy = new SarathiPolicy(new SarathiOptions(TokenBudget: 100), new PolicyContext(blocks));
        policy.Enqueue(new Request(0, 600, 5));
        Driver.Execute(policy, policy.Schedule(0));
        policy.Enqueue(new Request(1, 700, 5));

        var next = policy.Schedule(0);

        Assert.Equal([(0, 100)], next.Entries.Select(e => (e.Request.Id, e.NewTokens)));
        Assert.Empty(next.Preempted);
    }

    [Fact]
    public void FastGen_Should_Fill_The_Budget_Splitting_Any_Prompt_And_Reserve_Whole_Prompts()
    {
        var blocks = new KvBlockManager(1000, 16);
        var policy = new FastGenPolicy(new FastGenOptions(TokenBudget: 100), new PolicyContext(blocks));
        var a = new Request(0, 80, 5);
        var b = new Request(1, 300, 5);
        policy.Enqueue(a);
        policy.Enqueue(b);

        var batch = policy.Schedule(0);

        Assert.Equal([(0, 80), (1, 20)], batch.Entries.Select(e => (e.Request.Id, e.NewTokens)));
        Assert.Equal(100, batch.TokenCount);
        Assert.Equal(19, blocks.BlocksOf(b).Count); // all 300 prompt tokens reserved up front
    }

    [Fact]
    public void DistServe_Decode_Gpu_Should_Pull_With_The_Whole_Output_Reserved()
    {
        var blocks = new KvBlockManager(1000, 16);
        var policy = new DistServePolicy(new DistServeOptions(), new PolicyContext(blocks, GpuRole.Decode));
        var request = Request.Prefilled(0, 100, 60);

        policy.EnqueuePrefilled(request);
        var batch = policy.Schedule(0);

        Assert.Equal([new KvPull(request)], batch.Pulls);
        Assert.True(batch.IsEmpty);
        Assert.Equal(10, blocks.BlocksOf(request).Count); // 159 tokens: 100 prompt + 60 output - 1
        policy.KvArrived(request);
        Assert.Equal([(0, 1)], policy.Schedule(0).Entries.Select(e => (e.Request.Id, e.NewTokens)));
    }

    [Fact]
    public void DistServe_Prefill_Gpu_Should_Hand_Off_After_The_First_Token()
    {
        var blocks = new KvBlockManager(1000, 16);
        var policy = new DistServePolicy(new DistServeOptions(PrefillTokenBudget: 250), new PolicyContext(blocks, GpuRole.Prefill));
        for (var i = 0; i < 3; i++) policy.Enqueue(new Request(i, 100, 10));

        var batch = policy.Schedule(0);
        Assert.Equal(2, batch.Entries.Count); // 200 of the 250-token budget; the third does not fit whole
        Driver.Execute(policy, batch);

        var handoffs = policy.TakeHandoffs();
        Assert.Equal([0, 1], handoffs.Select(r => r.Id));
        Assert.Equal(0, policy.RunningCount);
        Assert.True(blocks.UsedBlocks > 0);
        foreach (var r in handoffs.ToList()) policy.Release(r);
        Assert.Equal(0, blocks.UsedBlocks);
    }
}
