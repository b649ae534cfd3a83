using Policies.Core;
using Policies.Memory;
using Policies.Vllm;

namespace Policies.Tests.Vllm;

public sealed class VllmPolicyTests
{
    [Fact]
    public void Should_Admit_Waiting_Requests_In_Arrival_Order_And_Prefill_First()
    {
        // Given a running request and two new arrivals
        var policy = new VllmPolicy(new VllmOptions(), new PolicyContext(new KvBlockManager(100, 16)));
        var first = new Request(0, 50, 10);
        policy.Enqueue(first);
        Driver.Execute(policy, policy.Schedule(0));
        policy.Enqueue(new Request(1, 30, 10));
        policy.Enqueue(new Request(2, 40, 10));

        // When
        var batch = policy.Schedule(0);

        // Then the next pass is the two prefills, in order, without the running decode (vLLM v0)
        Assert.Equal([1, 2], batch.Entries.Select(e => e.Request.Id));
        Assert.All(batch.Entries, e => Assert.True(e.IsPrefill));
        Driver.Execute(policy, batch);
        Assert.Equal([0, 1, 2], policy.Schedule(0).Entries.Select(e => e.Request.Id));
    }

    [Fact]
    public void Should_Respect_Max_Num_Seqs_And_The_Token_Budget()
    {
        var policy = new VllmPolicy(new VllmOptions(MaxNumSeqs: 2, MaxNumBatchedTokens: 100), new PolicyContext(new KvBlockManager(100, 16)));
        for (var i = 0; i < 4; i++) policy.Enqueue(new Request(i, 40, 5));

        var batch = policy.Schedule(0);

        Assert.Equal(2, batch.Entries.Count);
        Assert.Equal(80, batch.TokenCount);
        Assert.Equal(2, policy.WaitingCount);
    }

    [Fact]
    public void Out_Of_Blocks_Should_Preempt_The_Latest_Request_And_Requeue_It_First()
    {
        // Given 2 requests that each fill 2 of 4 blocks (block size 4, prompt 8)
        var blocks = new KvBlockManager(4, 4);
        var policy = new VllmPolicy(new VllmOptions(WatermarkFraction: 0), new PolicyContext(blocks));
        var early = new Request(0, 8, 5);
        var late = new Request(1, 8, 5);
        policy.Enqueue(early);
        policy.Enqueue(late);
        Driver.Execute(policy, policy.Schedule(0));

        // When both need a third block for their next token
        var batch = policy.Schedule(0);

        // Then the later one is preempted by recompute and the earlier one decodes
        Assert.Equal([late], batch.Preempted);
        Assert.Equal([early], batch.Entries.Select(e => e.Request));
        Assert.Equal(RequestPhase.Waiting, late.Phase);
        Assert.Empty(blocks.BlocksOf(late));
        Assert.Equal(1, late.Preemptions);
        Assert.Equal(9, late.PendingTokens);
        Assert.Equal(1, policy.WaitingCount);
    }

    [Fact]
    public void Swap_Preemption_Should_Move_The_Victim_To_Host_And_Pull_It_Back_Before_New_Requests()
    {
        // Given 2 requests that each fill 2 of 4 blocks, swap preemption
        var blocks = new KvBlockManager(4, 4);
        var policy = new VllmPolicy(new VllmOptions(WatermarkFraction: 0, Preemption: Preemption.Swap), new PolicyContext(blocks));
        var early = new Request(0, 8, 2);
        var late = new Request(1, 8, 5);
        policy.Enqueue(early);
        policy.Enqueue(late);
        Driver.Execute(policy, policy.Schedule(0));

        // When both need a third block: the later one is swapped out, keeping its computed tokens
        var batch = policy.Schedule(0);
        Assert.Equal([late], batch.SwapOuts.Select(s => s.Request));
        Assert.Empty(blocks.BlocksOf(late));
        Assert.Equal(8, late.ComputedTokens);
        Driver.Execute(policy, batch); // early finishes

        // Then it is not pulled back while its copy to host memory runs,
        Assert.DoesNotContain(policy.Schedule(0).Pulls, p => p.Request == late);
        // and once the copy landed it is pulled back ahead of a newer request
        policy.SwappedOut(late);
        var newer = new Request(2, 8, 5);
        policy.Enqueue(newer);
        var back = policy.Schedule(0);
        Assert.Equal([late], back.Pulls.Select(p => p.Request));
        Assert.DoesNotContain(back.Entries, e => e.Request == newer);
        Assert.Equal(3, blocks.BlocksOf(late).Count);
    }

    [Fact]
    public void Chunked_Prefill_Should_Fill_The_Budget_After_Running_Decodes()
    {
        var policy = new VllmPolicy(new VllmOptions(MaxNumBatchedTokens: 64, ChunkedPrefill: true), new PolicyContext(new KvBlockManager(100, 16)));
        policy.Enqueue(new Request(0, 10, 5));
        Driver.Execute(policy, policy.Schedule(0));
        var big = new Request(1, 200, 5);
        policy.Enqueue(big);

        var batch = policy.Schedule(0);

        Assert.Equal([(0, 1), (1, 63)], batch.Entries.Select(e => (e.Request.Id, e.NewTokens)));
        Driver.Execute(policy, batch);
        Assert.Equal(63, big.ComputedTokens);
        Assert.Equal(0, big.GeneratedTokens);
    }

    [Fact]
    public void Finished_Requests_Should_Return_Their_Blocks()
    {
        var blocks = new KvBlockManager(100, 16);
        var policy = new VllmPolicy(new VllmOptions(), new PolicyContext(blocks));
        policy.Enqueue(new Request(0, 40, 2));
        Driver.Execute(policy, policy.Schedule(0));
        Driver.Execute(policy, policy.Schedule(0));

        Assert.Equal(0, policy.RunningCount);
        Assert.Equal(100, blocks.FreeBlocks);
        Assert.True(policy.Schedule(0).IsEmpty);
    }
}
