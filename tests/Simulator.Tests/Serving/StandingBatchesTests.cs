using Policies.Core;
using Policies.Memory;
using Policies.Vllm;
using Simulator.Config;
using Simulator.CostModel;
using Simulator.Metrics;
using Simulator.Serving;
using Simulator.Workload;

namespace Simulator.Tests.Serving;

/// <summary>
/// The standing-decode seam: who gets standing batches, and that a standing batch leaves the block tables and the requests
/// exactly as the policy's own passes would, pass by pass, and stops where the policy would decide differently.
/// </summary>
public sealed class StandingBatchesTests
{
    private static ForwardCostModel CostModel()
    {
        var config = ExperimentLoader.Load(RepoPaths.Quickstart, ["model=opt-13b", "cost_model.attention_kernel=per_head"]);
        return new ForwardCostModel(config.Model, config.Node.Gpu, config.CostModel);
    }

    /// <summary>A vllm GPU of <paramref name="blocks"/> blocks of 16 tokens running the prefilled requests as decodes: its policy, blocks, requests and first batch (run and completed).</summary>
    private static (VllmPolicy Policy, KvBlockManager Blocks, Request[] Requests, ForwardBatch First) Decoding(int[] prompts, int[] outputs, int blocks)
    {
        var manager = new KvBlockManager(blocks, 16, trackIds: false);
        var policy = new VllmPolicy(new VllmOptions(MaxNumSeqs: 1024, MaxNumBatchedTokens: 1 << 20, WatermarkFraction: 0), new PolicyContext(manager));
        var requests = prompts.Select((p, i) => Request.Prefilled(i, p, outputs[i])).ToArray();
        foreach (var r in requests) policy.EnqueuePrefilled(r);
        foreach (var pull in policy.Schedule(0).Pulls) policy.KvArrived(pull.Request);
        var first = policy.Schedule(0);
        Assert.Equal(requests.Length, first.Entries.Count);
        foreach (var e in first.Entries) e.Request.Advance(e.NewTokens);
        policy.Complete(first);
        return (policy, manager, requests, first);
    }

    [Fact]
    public void A_Batch_That_Goes_On_With_Joiners_Should_Count_The_Tokens_Its_Members_Emitted_Before_They_Joined()
    {
        // Given a request whose prefill chunk stopped one prompt token short (it has emitted no token; its next pass emits its first),
        var manager = new KvBlockManager(1000, 16, trackIds: false);
        var policy = new VllmPolicy(new VllmOptions(MaxNumSeqs: 64, MaxNumBatchedTokens: 99, ChunkedPrefill: true, WatermarkFraction: 0), new PolicyContext(manager));
        var chunked = new Request(0, 100, 50);
        policy.Enqueue(chunked);
        var prefill = policy.Schedule(0);
        Assert.Equal(99, Assert.Single(prefill.Entries).NewTokens);
        chunked.Advance(99);
        policy.Complete(prefill);
        Assert.Equal(0, chunked.GeneratedTokens);
        // standing from there: its first pass emits its first token,
        var standing = new StandingDecode(16, CostModel());
        Assert.True(standing.Start(prefill, manager, int.MaxValue, minimumPasses: 0, CostModel().StandingShapeFor));
        Assert.Equal((chunked, 0), Assert.Single(standing.EarlyMembers.ToArray()));
        Assert.NotNull(standing.TryNextPass(manager));
        standing.PassDone();

        // When a prefilled request joins after that pass (its KV in its blocks),
        var joiner = Request.Prefilled(1, 40, 20);
        manager.Reserve(joiner, joiner.ComputedTokens + 1);
        var joinerEntry = new ForwardBatch();
        joinerEntry.Add(joiner, 1);
        Assert.True(standing.Rejoin(joinerEntry.Entries, manager));

        // Then the batch knows the request has emitted one token, so the next pass emits its second (and the joiner's second, too)
        Assert.Equal([(chunked, 1), (joiner, 1)], standing.EarlyMembers.ToArray());
        Assert.Equal(2, standing.Count);
        Assert.Equal(100 + 1 + 41, standing.TotalTokens);
    }

    [Theory]
    [InlineData(1, 40)]
    [InlineData(2, 200)]
    [InlineData(3, 5)]
    [InlineData(4, 1)] // stops before its first pass
    public void A_Standing_Batch_Should_Hold_The_Blocks_And_Tokens_The_Policys_Passes_Would_And_Stop_Where_They_Differ(int seed, int spareBlocks)
    {
        // Given two identical GPUs decoding 30 requests, with a few spare blocks beyond what they hold (so growth runs out),
        var random = new Random(seed);
        var prompts = Enumerable.Range(0, 30).Select(_ => random.Next(20, 700)).ToArray();
        var outputs = Enumerable.Range(0, 30).Select(_ => random.Next(30, 400)).ToArray();
        var total = prompts.Sum(p => (p + 16) / 16) + spareBlocks;
        var reference = Decoding(prompts, outputs, total);
        var lazy = Decoding(prompts, outputs, total);
        // one running a standing batch from its first pass,
        var standing = new StandingDecode(16, CostModel());
        Assert.True(standing.Start(lazy.First, lazy.Blocks, int.MaxValue, minimumPasses: 0, CostModel().StandingShapeFor));

        // When the other runs its policy's passes beside it,
        var passes = 0;
        var endedWithFinish = false;
        while (standing.TryNextPass(lazy.Blocks) is not null)
        {
            var batch = reference.Policy.Schedule(0);
            Assert.Empty(batch.Preempted);
            var finished = batch.Entries.Count(e => e.Request.Advance(e.NewTokens) && e.Request.Phase == RequestPhase.Finished);
            reference.Policy.Complete(batch);
            passes++;
            // (members finish only in the standing batch's last pass, which is then completed as the policy's batch)
            Assert.Equal(finished > 0, standing.FinishesThisPass);
            if (standing.FinishesThisPass)
            {
                var formed = standing.Form(new ForwardBatch());
                Assert.Equal(batch.Entries.Select(e => e.Request.Id), formed.Entries.Select(e => e.Request.Id));
                foreach (var e in formed.Entries) e.Request.Advance(e.NewTokens);
                lazy.Policy.Complete(formed);
                endedWithFinish = true;
            }
            else standing.PassDone();
            // Then after every pass both hold the same blocks, request by request
            Assert.Equal(reference.Blocks.FreeBlocks, lazy.Blocks.FreeBlocks);
            for (var i = 0; i < prompts.Length; i++) Assert.Equal(reference.Blocks.HeldBlocks(reference.Requests[i]), lazy.Blocks.HeldBlocks(lazy.Requests[i]));
            if (endedWithFinish) break;
        }
        Assert.Equal(!endedWithFinish, standing.Active);
        if (standing.Active) standing.Exit();

        // and the members have the tokens the policy's passes gave theirs,
        for (var i = 0; i < prompts.Length; i++)
        {
            Assert.Equal(reference.Requests[i].ComputedTokens, lazy.Requests[i].ComputedTokens);
            Assert.Equal(reference.Requests[i].GeneratedTokens, lazy.Requests[i].GeneratedTokens);
            Assert.Equal(reference.Requests[i].Phase, lazy.Requests[i].Phase);
        }
        // and the standing batch ended with the first pass in which a member finished, or before the first pass that preempts (its growth does not fit)
        Assert.True(endedWithFinish || reference.Policy.Schedule(0).Preempted.Count > 0, $"stopped after {passes} passes with nothing different in the next");
    }

    /// <summary>The vllm policy's decisions, without its word on repeats.</summary>
    private sealed class Undeclared(IBatchPolicy inner) : IBatchPolicy
    {
        public void Enqueue(Request request) => inner.Enqueue(request);
        public void EnqueuePrefilled(Request request) => inner.EnqueuePrefilled(request);
        public ForwardBatch Schedule(long nowNs) => inner.Schedule(nowNs);
        public void Complete(ForwardBatch batch) => inner.Complete(batch);
        public void KvArrived(Request request) => inner.KvArrived(request);
        public IReadOnlyList<Request> TakeHandoffs() => inner.TakeHandoffs();
        public void Release(Request request) => inner.Release(request);
        public void SwappedOut(Request request) => inner.SwappedOut(request);
        public int WaitingCount => inner.WaitingCount;
        public int RunningCount => inner.RunningCount;
        public int ArrivingCount => inner.ArrivingCount;
    }

    [Fact]
    public void A_Gpu_Should_Have_Standing_Batches_Only_With_A_Policy_That_Vouches_A_Backend_That_Prices_And_A_Role_That_Decodes()
    {
        var blocks = new KvBlockManager(100, 16, trackIds: false);
        var vllm = new VllmPolicy(new VllmOptions(), new PolicyContext(blocks));
        var metrics = new MetricsRecorder([], []);
        var costs = CostModel();

        Assert.NotNull(StandingBatches.For(0, GpuRole.Colocated, vllm, blocks, costs, metrics));
        Assert.NotNull(StandingBatches.For(0, GpuRole.Decode, vllm, blocks, costs, metrics));
        Assert.Null(StandingBatches.For(0, GpuRole.Prefill, vllm, blocks, costs, metrics));
        Assert.Null(StandingBatches.For(0, GpuRole.Colocated, vllm, blocks, null, metrics));
        Assert.Null(StandingBatches.For(0, GpuRole.Colocated, new Undeclared(vllm), blocks, costs, metrics));
    }
}
