using CsCheck;
using Policies.Aligned;
using Policies.Core;
using Policies.Memory;
using Policies.Vllm;

namespace Policies.Tests.Aligned;

public sealed class AlignedPolicyTests
{
    /// <summary>A prefilled request, as a prefill GPU hands it over (KV of its prompt computed, first token out).</summary>
    private static Request Prefilled(int id, int prompt, int output = 50) => Request.Prefilled(id, prompt, output);

    private static (AlignedPolicy Policy, KvBlockManager Blocks) Decoder(AlignedOptions options, int blocks = 100_000)
    {
        var manager = new KvBlockManager(blocks, 16);
        return (new AlignedPolicy(options, new PolicyContext(manager, GpuRole.Decode)), manager);
    }

    [Fact]
    public void Should_Form_The_Batch_From_The_Dense_Short_Requests()
    {
        // Given the paper's example: 40 requests of 100 tokens and 4 of 8,000 in the pool, interleaved
        var (policy, _) = Decoder(new AlignedOptions());
        var id = 0;
        for (var i = 0; i < 44; i++) policy.EnqueuePrefilled(Prefilled(id++, i % 11 == 5 ? 8000 : 100));

        // When
        var batch = policy.Schedule(0);

        // Then the batch is the 40 short ones
        Assert.Equal(40, batch.Pulls.Count);
        Assert.All(batch.Pulls, p => Assert.Equal(100, p.Request.PromptTokens));
        Assert.All(batch.Pulls, p => Assert.True(p.StageOnPrefillGpu));
        Assert.Equal(4, policy.PoolCount);
    }

    [Fact]
    public void Without_Prefix_Awareness_Should_Take_The_Pool_In_Arrival_Order()
    {
        var (policy, _) = Decoder(new AlignedOptions(PrefixAware: false, KMin: 4, BMax: 1, PrefetchPath: PrefetchPath.PcieDirect));
        int[] prompts = [100, 8000, 100, 8000, 100];
        for (var i = 0; i < prompts.Length; i++) policy.EnqueuePrefilled(Prefilled(i, prompts[i]));

        var batch = policy.Schedule(0);

        Assert.Equal([0, 1, 2, 3, 4], batch.Pulls.Select(p => p.Request.Id));
        Assert.All(batch.Pulls, p => Assert.False(p.StageOnPrefillGpu));
    }

    [Fact]
    public void Batch_Kv_Should_Stay_Under_B_Max()
    {
        // 1,000 blocks of 16 tokens; b_max 0.1 caps a batch at 1,600 tokens: 15 requests of 101.
        var (policy, _) = Decoder(new AlignedOptions(BMax: 0.1), blocks: 1000);
        for (var i = 0; i < 40; i++) policy.EnqueuePrefilled(Prefilled(i, 100));

        var batch = policy.Schedule(0);

        Assert.Equal(15, batch.Pulls.Count);
        Assert.True(batch.Pulls.Sum(p => p.Request.ComputedTokens + 1) <= 1600);
    }

    [Theory]
    [InlineData(1.0, true)]
    [InlineData(null, false)]
    public void Starvation_Guard_Should_Force_An_Old_Outlier_Into_The_Next_Batch(double? guardS, bool forced)
    {
        // Given an outlier and six short requests pooled at t = 0; the short ones form the first batch
        var (policy, _) = Decoder(new AlignedOptions(KMin: 3, StarvationGuardS: guardS));
        var outlier = Prefilled(0, 9000);
        policy.EnqueuePrefilled(outlier);
        for (var i = 1; i < 7; i++) policy.EnqueuePrefilled(Prefilled(i, 100));
        var first = policy.Schedule(0);
        Assert.DoesNotContain(first.Pulls, p => p.Request == outlier);
        foreach (var p in first.Pulls) policy.KvArrived(p.Request);
        policy.Schedule(0); // switch: the short batch runs

        // When six more short requests arrive at t = 2 s and the next batch is formed
        for (var i = 7; i < 13; i++) policy.EnqueuePrefilled(Prefilled(i, 100));
        var next = policy.Schedule(2_000_000_000);

        // Then only a guard older than the outlier's wait forces it in
        Assert.Equal(forced, next.Pulls.Any(p => p.Request == outlier));
        Assert.True(next.Pulls.Count(p => p.Request.PromptTokens == 100) >= 3);
    }

    [Fact]
    public void Switch_Should_Run_The_Staged_Batch_And_Flag_The_Overlap()
    {
        var (policy, _) = Decoder(new AlignedOptions(KMin: 2, SwitchThreshold: 0.75, CandidateRequests: false));
        var a = Prefilled(0, 100, output: 3);
        var b = Prefilled(1, 100, output: 30);
        policy.EnqueuePrefilled(a);
        policy.EnqueuePrefilled(b);
        var first = policy.Schedule(0);
        foreach (var p in first.Pulls) policy.KvArrived(p.Request);
        var running = policy.Schedule(0);
        Assert.Equal(2, running.Entries.Count);

        // The next batch is staged while a and b run.
        var c = Prefilled(2, 5000);
        var d = Prefilled(3, 5000);
        policy.EnqueuePrefilled(c);
        policy.EnqueuePrefilled(d);
        foreach (var e in running.Entries) e.Request.Advance(e.NewTokens);
        policy.Complete(running);
        var staging = policy.Schedule(0);
        Assert.Equal([2, 3], staging.Pulls.Select(p => p.Request.Id));
        foreach (var p in staging.Pulls) policy.KvArrived(p.Request);
        Assert.Equal([0, 1], staging.Entries.Select(e => e.Request.Id)); // staged requests do not run yet

        // a finishes: 1 of 2 left is below 0.75, so c and d join b, and the pass is a batch switch.
        foreach (var e in staging.Entries) e.Request.Advance(e.NewTokens);
        policy.Complete(staging);
        var switched = policy.Schedule(0);
        Assert.Equal([1, 2, 3], switched.Entries.Select(e => e.Request.Id));
        Assert.True(switched.IsBatchSwitch);
        Assert.True(switched.BringsNewBatch);

        // The next pass still runs both batches' members, but brings no new batch in: the paper counts the switch once.
        foreach (var e in switched.Entries) e.Request.Advance(e.NewTokens);
        policy.Complete(switched);
        var after = policy.Schedule(0);
        Assert.True(after.IsBatchSwitch);
        Assert.False(after.BringsNewBatch);
    }

    [Fact]
    public void Starvation_Guard_Should_Switch_A_Starved_Candidate_In_Before_The_Running_Batch_Shrinks()
    {
        // Given a running batch of two long-lived requests and a staged candidate, pooled at t = 0, guard 1 s
        var (policy, _) = Decoder(new AlignedOptions(KMin: 2, CandidateRequests: false, StarvationGuardS: 1.0));
        var staging = RunTwoAndStageTwo(policy);
        Advance(policy, staging);

        // When nothing finished: before the bound the candidate waits; the guard says when it turns starved
        var before = policy.Schedule(1_000_000_000);
        Assert.Equal([0, 1], before.Entries.Select(e => e.Request.Id));
        Assert.Equal(1_000_000_001, policy.RepeatUntilNs);
        Advance(policy, before);
        var after = policy.Schedule(1_000_000_001);

        // Then past it the candidate batch switches in beside the running one
        Assert.Equal([0, 1, 2, 3], after.Entries.Select(e => e.Request.Id));
        Assert.True(after.BringsNewBatch);
    }

    [Fact]
    public void Starvation_Guard_Should_Let_A_Starved_Request_Join_The_Running_Batch_Under_B_Max()
    {
        // Given a batch of short requests running and a staged candidate; an outlier pooled at t = 0 outside the batch's lengths
        var (policy, _) = Decoder(new AlignedOptions(KMin: 2, StarvationGuardS: 1.0), blocks: 10_000);
        var staging = RunTwoAndStageTwo(policy);
        var outlier = Prefilled(4, 3000);
        policy.EnqueuePrefilled(outlier);
        Advance(policy, staging);
        Assert.DoesNotContain(policy.Schedule(0).Pulls, p => p.Request == outlier);

        // When its wait passes the bound, it is pulled into the running batch (3,001 + the batch's 200 under 0.4 x 160,000 tokens)
        var late = policy.Schedule(1_000_000_001);

        // Then
        Assert.Contains(late.Pulls, p => p.Request == outlier);
        Assert.Equal(0, policy.PoolCount);
    }

    [Fact]
    public void B_Max_With_Growth_Should_Count_Whole_Outputs()
    {
        // 1,000 blocks of 16 tokens; b_max 0.1 caps a batch at 1,600 tokens: 15 requests of 101 now, but 3 of 100 + 450 - 1 at their largest.
        var (current, _) = Decoder(new AlignedOptions(BMax: 0.1), blocks: 1000);
        var (growth, _) = Decoder(new AlignedOptions(BMax: 0.1, BMaxCounts: BMaxCounts.WithGrowth), blocks: 1000);
        for (var i = 0; i < 40; i++)
        {
            current.EnqueuePrefilled(Prefilled(i, 100, output: 450));
            growth.EnqueuePrefilled(Prefilled(i, 100, output: 450));
        }

        Assert.Equal(15, current.Schedule(0).Pulls.Count);
        Assert.Equal(2, growth.Schedule(0).Pulls.Count);
    }

    [Theory]
    [InlineData(false, 5)]
    [InlineData(true, 0)]
    public void K_Min_Strict_Should_Wait_For_K_Min_Requests(bool strict, int pulled)
    {
        var (policy, _) = Decoder(new AlignedOptions(KMin: 6, KMinStrict: strict, StarvationGuardS: 1.0));
        for (var i = 0; i < 5; i++) policy.EnqueuePrefilled(Prefilled(i, 100));

        Assert.Equal(pulled, policy.Schedule(0).Pulls.Count);
        // A starved pool forms a batch however small.
        if (strict) Assert.Equal(5, policy.Schedule(1_000_000_001).Pulls.Count);
    }

    [Fact]
    public void Candidate_Batch_Should_Wait_In_The_Prefill_Gpus_Blocks_Until_The_Switch()
    {
        // Given a decode GPU whose paired prefill GPU lends its blocks for the candidate batch buffer
        var (policy, decodeBlocks) = Decoder(new AlignedOptions(KMin: 2, CandidateRequests: false));
        var prefillBlocks = new KvBlockManager(100_000, 16);
        policy.UseStagingArea(prefillBlocks);
        foreach (var id in new[] { 0, 1 }) policy.EnqueuePrefilled(Prefilled(id, 100, output: 3));

        // When the batch is formed, its KV is held on the prefill GPU: blocks there, none here
        var formed = policy.Schedule(0);
        Assert.All(formed.Pulls, p => Assert.True(p.HoldOnPrefillGpu));
        Assert.Equal(2 * 7, prefillBlocks.UsedBlocks);
        Assert.Equal(0, decodeBlocks.UsedBlocks);
        Assert.Equal(2, policy.ArrivingCount);

        // Then the switch pulls it over (blocks reserved here now; the driver frees the prefill GPU's when the copy lands)
        foreach (var p in formed.Pulls) policy.KvArrived(p.Request);
        var switched = policy.Schedule(0);
        Assert.True(switched.BringsNewBatch);
        Assert.Equal(2, switched.Pulls.Count);
        Assert.All(switched.Pulls, p => Assert.False(p.HoldOnPrefillGpu));
        Assert.Equal(2 * 7, decodeBlocks.UsedBlocks);
        foreach (var p in switched.Pulls) policy.KvArrived(p.Request);
        Assert.Equal([0, 1], policy.Schedule(0).Entries.Select(e => e.Request.Id));
    }

    /// <summary>The driver's part after a pass: every entry advanced, then the policy completes the batch.</summary>
    /// <summary>
    /// At t = 0: requests 0 and 1 (100 tokens, 1,000 to generate) pulled in and run one pass; 2 and 3 pooled and staged as the
    /// candidate batch. Returns the pass that staged them (not yet completed).
    /// </summary>
    private static ForwardBatch RunTwoAndStageTwo(AlignedPolicy policy)
    {
        foreach (var id in new[] { 0, 1 }) policy.EnqueuePrefilled(Prefilled(id, 100, output: 1000));
        foreach (var p in policy.Schedule(0).Pulls) policy.KvArrived(p.Request);
        var running = policy.Schedule(0);
        foreach (var id in new[] { 2, 3 }) policy.EnqueuePrefilled(Prefilled(id, 100, output: 1000));
        Advance(policy, running);
        var staging = policy.Schedule(0);
        foreach (var p in staging.Pulls) policy.KvArrived(p.Request);
        return staging;
    }

    private static void Advance(AlignedPolicy policy, ForwardBatch batch)
    {
        foreach (var e in batch.Entries) e.Request.Advance(e.NewTokens);
        policy.Complete(batch);
    }

    [Fact]
    public void Length_Index_Should_Find_The_Nearest_And_Densest_Like_A_Brute_Force_Scan()
    {
        Property.ForAll(Gen.Int[1, 70_000].Array[1, 200].Select(Gen.Int[1, 70_000]), t =>
        {
            var (lengths, target) = t;
            var index = new LengthIndex();
            var requests = lengths.Select((l, i) => (Request: new Request(i, 1, 1), Length: l)).ToList();
            foreach (var (r, l) in requests) index.Add(r, l);
            foreach (var (r, _) in requests.Where((_, i) => i % 3 == 0)) index.Remove(r);
            var left = requests.Where((_, i) => i % 3 != 0).ToList();
            if (left.Count == 0) return index.Count == 0 && index.Nearest(target) is null;

            var nearest = index.Nearest(target)!;
            var best = left.Min(x => Math.Abs(LengthIndex.LeafOf(x.Length) - LengthIndex.LeafOf(target)));
            var nearestLength = left.Single(x => x.Request == nearest).Length;
            var (node, lo, hi) = index.DensestRegion(3);
            var inRegion = left.Count(x => LengthIndex.LeafOf(x.Length) + 1 >= lo && LengthIndex.LeafOf(x.Length) + 1 <= hi);
            return Math.Abs(LengthIndex.LeafOf(nearestLength) - LengthIndex.LeafOf(target)) == best
                && index.InNode(node).Count() == inRegion
                && (inRegion >= 3 || node == 1);
        }, iterations: 300);
    }
}
