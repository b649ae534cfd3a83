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
