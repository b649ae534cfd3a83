using CsCheck;
using Policies.Aligned;
using Policies.Core;
using Policies.DistServe;
using Policies.FastGen;
using Policies.Orca;
using Policies.Sarathi;
using Policies.Vllm;
using Simulator.Config;
using Simulator.Runs;
using Simulator.Serving;
using Simulator.Specs;
using Simulator.Workload;

namespace Simulator.Tests.Serving;

/// <summary>Invariants of a serving run, for every policy, over many random small deployments, workloads and memory sizes.</summary>
public sealed class ServingInvariantTests
{
    internal static readonly ExperimentConfig Base = ExperimentLoader.Load(RepoPaths.Quickstart, ["model.layers=2"]);

    internal sealed record Case(int Blocks, PolicyConfig Policy, GpuGroup[] Gpus, int Nodes, Router Router, KvHandoff Handoff,
        double PoolTokens, RequestSpec[] Requests)
    {
        public override string ToString() =>
            $"{Policy.Name} {Policy.Options}, blocks {Blocks}, gpus [{string.Join(", ", Gpus.Select(g => $"{g.Role} x{g.Count}"))}], nodes {Nodes}, {Router}, {Handoff}, {Requests.Length} requests";

        /// <summary>The policy's per-pass token budget, when it has one that bounds every pass.</summary>
        public int? Budget => Policy.Options switch
        {
            VllmOptions { ChunkedPrefill: true } v => v.MaxNumBatchedTokens,
            SarathiOptions s => s.TokenBudget,
            FastGenOptions f => f.TokenBudget,
            _ => null,
        };
    }

    private static readonly Gen<PolicyConfig> Policies = Gen.Int[64, 2048].SelectMany(budget => Gen.OneOf<PolicyConfig>(
        Gen.Const(new PolicyConfig("vllm", new VllmOptions(MaxNumBatchedTokens: budget))),
        Gen.Const(new PolicyConfig("vllm", new VllmOptions(MaxNumBatchedTokens: budget, ChunkedPrefill: true))),
        Gen.Const(new PolicyConfig("vllm", new VllmOptions(MaxNumBatchedTokens: budget, Preemption: Preemption.Swap))),
        Gen.Const(new PolicyConfig("orca", new OrcaOptions(MaxNumBatchedTokens: budget, MaxSequenceTokens: 64))),
        Gen.Const(new PolicyConfig("sarathi", new SarathiOptions(TokenBudget: budget))),
        Gen.Const(new PolicyConfig("fastgen", new FastGenOptions(TokenBudget: budget))),
        Gen.Const(new PolicyConfig("distserve", new DistServeOptions(PrefillTokenBudget: budget, ReserveFullOutput: budget % 2 == 0))),
        Gen.Const(new PolicyConfig("aligned", new AlignedOptions(KMin: 1 + budget % 8, PrefillTokenBudget: budget))),
        Gen.Const(new PolicyConfig("aligned", new AlignedOptions(KMin: 4, PrefixAware: false, Prefetch: false))),
        Gen.Const(new PolicyConfig("aligned", new AlignedOptions(KMin: 4, PrefetchPath: PrefetchPath.PcieDirect, CandidateRequests: false, BMax: 0.1))),
        Gen.Const(new PolicyConfig("aligned", new AlignedOptions(KMin: 4, StarvationGuardS: 0.001, SwitchThreshold: 0.9))),
        Gen.Const(new PolicyConfig("aligned", new AlignedOptions(KMin: 4, Preemption: Preemption.Recompute)))));

    private static readonly Gen<GpuGroup[]> Colocated = Gen.Int[1, 3].Select(n => new[] { new GpuGroup(GpuRole.Colocated, n) });

    private static readonly Gen<GpuGroup[]> Disaggregated =
        Gen.Select(Gen.Int[1, 3], Gen.Int[1, 3]).Select((p, d) => new[] { new GpuGroup(GpuRole.Prefill, p), new GpuGroup(GpuRole.Decode, d) });

    private static readonly Gen<GpuGroup[]> Mixed = Gen.Select(Gen.Int[1, 2], Gen.Int[1, 2]).Select((p, d) =>
        new[] { new GpuGroup(GpuRole.Prefill, p), new GpuGroup(GpuRole.Decode, d), new GpuGroup(GpuRole.Colocated, 1) });

    private static readonly Gen<RequestSpec[]> Workloads = Gen.Int[1, 60].SelectMany(n =>
        Gen.Select(Gen.Long[0, 2_000_000_000], Gen.Int[1, 400], Gen.Int[1, 80]).Array[n].Select(raw =>
            raw.OrderBy(r => r.Item1).Select((r, i) => new RequestSpec(i, r.Item1, r.Item2, r.Item3)).ToArray()));

    /// <summary>A policy, then a deployment it can run on (disaggregated ones for distserve and aligned, the host pool for aligned).</summary>
    internal static readonly Gen<Case> Cases = Policies.SelectMany(policy =>
        Gen.Select(Gen.Int[30, 120], policy.Descriptor.NeedsDisaggregation ? Disaggregated : Gen.OneOf(Colocated, Disaggregated, Mixed),
                Gen.Int[1, 2], Gen.Enum<Router>(), policy.Descriptor.NeedsHostPool ? Gen.Const(KvHandoff.HostPool) : Gen.Enum<KvHandoff>(),
                Gen.Double[1, 4], Workloads)
            .Select((blocks, gpus, nodes, router, handoff, pool, requests) => new Case(blocks, policy, gpus, nodes, router, handoff, pool, requests)));

    /// <summary>The pool must hold what it may be asked to: a prompt's KV, or a whole request's when the policy swaps.</summary>
    private static double PoolBytes(Case c)
    {
        var swaps = c.Policy.Descriptor.Swaps?.Invoke(c.Policy.Options) ?? false;
        var largest = c.Requests.Max(r => swaps ? r.PromptTokens + r.OutputTokens - 1 : r.PromptTokens);
        return Math.Ceiling(c.PoolTokens * largest) * Base.Model.KvBytesPerToken;
    }

    /// <summary>Runs a case (GPUs of c.Blocks blocks of 16 tokens), with <paramref name="lazyDecode"/> standing batches.</summary>
    internal static RunResult Execute(Case c, bool lazyDecode = true)
    {
        var config = Base with
        {
            Policy = c.Policy,
            Deployment = new DeploymentConfig(c.Nodes, c.Gpus, c.Router, c.Handoff, PoolBytes(c) / Units.GiB),
            Engine = Base.Engine with { LazyDecode = lazyDecode },
        };
        var memory = new MemoryPlan(0, 0, 0, 0, c.Blocks, 16);
        try
        {
            return SingleRun.Execute(new PreparedRun(config, c.Requests, memory, WorkloadStats.Given("test", c.Requests.Length)));
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"{e.Message} Case: {c}", e);
        }
    }

    [Fact]
    public void Every_Request_Should_Finish_Once_With_Its_Tokens_Within_Memory_And_In_Causal_Order()
    {
        Property.ForAll(Cases, c =>
        {
            // Given a GPU of only c.Blocks blocks of 16 tokens (preemption is common) and a host pool of a few prompts
            var poolBytes = PoolBytes(c);
            var disaggregated = c.Gpus.Any(g => g.Role == GpuRole.Prefill);

            // When
            var result = Execute(c);

            // Then every request finished once, with its tokens, in causal order
            var m = result.Metrics;
            Metrics.ComputedTokens.AssertEveryTokenComputed(m);
            Assert.Equal(c.Requests.Length, m.Finished);
            foreach (var r in c.Requests)
            {
                Assert.True(m.FirstTokenNs[r.Id] > r.ArrivalNs, "first token after arrival");
                Assert.True(m.FinishNs[r.Id] >= m.FirstTokenNs[r.Id], "finish after first token");
            }
            // memory never over capacity, one pass at a time per GPU, token budgets kept
            foreach (var gpu in m.Iterations.GroupBy(it => it.Gpu))
            {
                var list = gpu.ToList();
                for (var i = 0; i < list.Count; i++)
                {
                    Assert.InRange(list[i].KvBlocksUsed, 0, c.Blocks);
                    Assert.True(list[i].DurationNs > 0);
                    if (i > 0) Assert.True(list[i].StartNs >= list[i - 1].StartNs + list[i - 1].DurationNs, "one pass at a time");
                    if (c.Budget is { } budget) Assert.True(list[i].NewTokens <= budget, "token budget respected");
                }
            }
            Assert.All(m.PoolSamples, s => Assert.InRange(s.UsedBytes, 0, (long)poolBytes));
            Assert.Equal(m.Iterations.Sum(it => it.DurationNs), m.Gpus.Sum(g => g.BusyNs));
            // and KV moved only by transfers: one handoff per request that left a prefill GPU
            Assert.All(m.Transfers, t => Assert.True(t.EndNs >= t.StartNs));
            // (GPU prefetch stages pool KV on the prefill GPU: one more hop)
            var staged = c.Policy.Options is AlignedOptions { PrefetchPath: PrefetchPath.GpuPrefetch };
            var expectedPerHandoff = c.Handoff == KvHandoff.Peer ? 1 : staged ? 3 : 2;
            // and every swap-out is one copy out and one copy back in (a request served on a colocated GPU has no handoff)
            foreach (var group in m.Transfers.GroupBy(t => t.Request))
            {
                var swapOuts = group.Count(t => t.Kind == "swap_out");
                var back = staged ? 2 : 1;
                var handoffs = disaggregated ? new[] { 0, expectedPerHandoff } : [0];
                Assert.Contains(group.Count() - swapOuts * (1 + back), handoffs);
            }
            if (!disaggregated) Assert.All(m.Transfers, t => Assert.True(t.Kind is "swap_out" or "host_to_gpu"));
        }, iterations: 400);
    }
}
