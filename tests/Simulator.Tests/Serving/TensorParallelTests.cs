using CsCheck;
using Policies.Core;
using Policies.Vllm;
using Simulator.Config;
using Simulator.CostModel;
using Simulator.Output;
using Simulator.Runs;
using Simulator.Serving;
using Simulator.Specs;
using Simulator.Workload;

namespace Simulator.Tests.Serving;

/// <summary>Tensor-parallel instances: the collectives' closed form, sharding rules, memory per GPU and per instance, tp 1 unchanged, serving invariants.</summary>
public sealed class TensorParallelTests
{
    private static ExperimentConfig Load(params string[] sets) => ExperimentLoader.Load(RepoPaths.Quickstart, sets);

    [Fact]
    public void All_Reduce_Should_Cost_Its_Latency_Plus_The_Ring_Traffic_Over_The_Bus_Bandwidth()
    {
        // Given the H100 node's fit for 8 GPUs and Llama-3.1-70B
        var config = Load("model=llama-3.1-70b");
        var fit = config.Node.AllReduceFor(8)!;
        var tp = new TensorParallel(config.Model, fit);

        // Then an all-reduce of S bytes is latency + 2 (n - 1) / n * S / busbw, and a pass (2 per layer, 1 after the
        // embedding, one logits gather) sums them
        foreach (var bytes in new[] { 0.0, 16_384, 1 << 20, 64 << 20 })
            Assert.Equal(fit.LatencyUs * 1000 + 2.0 * 7 / 8 * bytes / fit.BusBandwidthGbPerS, tp.AllReduceNs(bytes), 6);
        const int tokens = 64;
        var activations = tokens * 8192.0 * 2;
        var logits = tokens * 128_256.0 * 2; // 128,256 divides by 8: no padding
        var expected = (2 * 80 + 1) * (fit.LatencyUs * 1000 + 1.75 * activations / fit.BusBandwidthGbPerS)
                       + fit.LatencyUs * 1000 + 7.0 / 8 * logits / fit.BusBandwidthGbPerS;
        Assert.Equal(expected, tp.PassNs(tokens, tokens), 6);
    }

    [Fact]
    public void A_Tensor_Parallel_Pass_Should_Cost_One_Shard_Plus_The_Collectives()
    {
        // Given Llama-3.1-70B on 8 H100s, and a decode batch
        var config = Load("model=llama-3.1-70b", "cost_model.engine_cpu=none");
        var tp = new TensorParallel(config.Model, config.Node.AllReduceFor(8)!);
        var whole = new ForwardCostModel(config.Model, config.Node.Gpu, config.CostModel, tensorParallel: tp);
        var shard = new ForwardCostModel(config.Model.Shard(8), config.Node.Gpu, config.CostModel);
        var batch = DecodeBatch(32, 700);

        // Then the instance's pass is the shard's pass plus the collectives, and every other part is the shard's
        var a = whole.Estimate(batch);
        var b = shard.Estimate(batch);
        Assert.Equal((long)Math.Round(tp.PassNs(32, 32)), a.CollectiveNs);
        Assert.Equal(b.DurationNs + a.CollectiveNs, a.DurationNs);
        Assert.Equal(b with { DurationNs = 0 }, a with { DurationNs = 0, CollectiveNs = 0 });
        // and the shard holds 1/8 of the heads, KV heads and MLP
        Assert.Equal((8, 1, 28672 / 8), (config.Model.Shard(8).Heads, config.Model.Shard(8).KvHeads, config.Model.Shard(8).Ffn));
    }

    private static ForwardBatch DecodeBatch(int requests, int context)
    {
        var blocks = new Policies.Memory.KvBlockManager(100_000, 16);
        var policy = new VllmPolicy(new VllmOptions(MaxNumSeqs: 1024, MaxNumBatchedTokens: 1 << 20), new PolicyContext(blocks));
        for (var i = 0; i < requests; i++) policy.EnqueuePrefilled(Request.Prefilled(i, context, 100));
        foreach (var pull in policy.Schedule(0).Pulls) policy.KvArrived(pull.Request);
        return policy.Schedule(0);
    }

    [Theory]
    [InlineData("llama-3.1-70b", 8, null)]
    [InlineData("llama-3.1-70b", 4, null)]
    [InlineData("llama-2-70b", 2, null)]
    [InlineData("opt-30b", 2, null)]
    [InlineData("opt-30b", 8, null)]
    [InlineData("opt-30b", 3, "attention heads do not split over 3 GPUs")]
    [InlineData("opt-30b", 16, "56 attention heads do not split over 16 GPUs")]
    [InlineData("llama-3.1-8b", 16, null)] // 8 KV heads over 16 GPUs: replicated, each GPU one
    [InlineData("opt-13b", 3, "do not split")]
    public void Check_Should_Refuse_Splits_The_Models_Shape_Does_Not_Allow(string model, int tp, string? problem)
    {
        var sets = new[] { $"model={model}", $"deployment.gpus=[{{role: colocated, count: 1, tp: {tp}}}]", "node=dgx-h100" };
        if (tp > 8) sets = [.. sets, "node.gpu_count=16", "node.all_reduce=[{gpus: 16, latency_us: 40, bus_bandwidth_gb_per_s: 300}]"];
        if (problem is null)
        {
            var config = Load(sets);
            Assert.Null(config.Model.ShardingProblem(tp));
            return;
        }
        var error = Assert.Throws<ConfigException>(() => Load(sets));
        Assert.Contains("deployment.gpus[0].tp", error.Message);
        Assert.Contains(problem, error.Message);
    }

    [Fact]
    public void Check_Should_Refuse_A_Tp_The_Node_Has_No_All_Reduce_Measurements_For()
    {
        var error = Assert.Throws<ConfigException>(() => Load("model=opt-13b", "node=dgx-a100", "deployment.gpus=[{role: colocated, count: 2, tp: 2}]",
            "cost_model.attention_kernel=per_head"));
        Assert.Contains("no all-reduce measurements for 2 GPUs", error.Message);
    }

    [Fact]
    public void Memory_Should_Be_Planned_Per_Gpu_With_Its_Shard_And_The_Instance_Should_Hold_The_Blocks_Of_One_Gpu()
    {
        // Given Llama-3.1-70B, which does not fit one H100
        var config = Load("model=llama-3.1-70b");
        var model = config.Model;
        var gpu = config.Node.Gpu;
        var one = Assert.Throws<ConfigException>(() => MemoryPlan.For(model, gpu, config.Engine));
        Assert.Contains("tensor parallelism", one.Message);

        foreach (var tp in new[] { 2, 4, 8 })
        {
            // When split over tp GPUs
            var plan = MemoryPlan.For(model, gpu, config.Engine, tp);
            var shard = model.Shard(tp);

            // Then each GPU holds 1/tp of the weights (the vocabulary padded to a multiple of tp) and its KV heads' share of every block,
            Assert.Equal(shard.WeightBytes, plan.WeightBytes);
            Assert.InRange(plan.WeightBytes * tp, model.WeightBytes, model.WeightBytes + 2L * model.Hidden * tp * model.DtypeBytes);
            Assert.Equal(model.KvBytesPerToken / tp * config.Engine.BlockSizeTokens, plan.BlockBytes);
            Assert.Equal((plan.UsableBytes - plan.WeightBytes - plan.ReserveBytes) / plan.BlockBytes, plan.KvBlocks);
            Assert.True(plan.WeightBytes + plan.ReserveBytes + (long)plan.KvBlocks * plan.BlockBytes <= plan.UsableBytes);
            // and the instance holds KvBlocks blocks of the block size: its tokens of KV take tp times one GPU's bytes
            Assert.Equal((long)plan.KvBlocks * 16, plan.KvCapacityTokens);
        }
        // and more GPUs hold more KV per instance
        Assert.True(MemoryPlan.For(model, gpu, config.Engine, 8).KvCapacityTokens > 2 * MemoryPlan.For(model, gpu, config.Engine, 4).KvCapacityTokens);
    }

    [Fact]
    public void Tp_One_Should_Write_The_Files_Of_A_Deployment_That_Does_Not_Name_It()
    {
        using var dir = new TempDir();
        void Run(string name, params string[] sets)
        {
            var result = SingleRun.Execute(PreparedRun.From(Load([.. sets, "workload.num_requests=150"])));
            Directory.CreateDirectory(Path.Combine(dir.Path, name));
            ResultsWriter.Write(Path.Combine(dir.Path, name), result);
        }
        Run("plain", "deployment.gpus=[{role: prefill, count: 2}, {role: decode, count: 2}]");
        Run("tp1", "deployment.gpus=[{role: prefill, count: 2, tp: 1}, {role: decode, count: 2, tp: 1}]");
        foreach (var file in Directory.GetFiles(Path.Combine(dir.Path, "plain")).Select(Path.GetFileName))
        {
            if (ResultsWriter.WallClockFiles.Contains(file) || file == ResultsWriter.ResolvedConfigFile) continue;
            Assert.True(File.ReadAllBytes(Path.Combine(dir.Path, "plain", file!)).AsSpan()
                .SequenceEqual(File.ReadAllBytes(Path.Combine(dir.Path, "tp1", file!))), $"{file} differs");
        }
    }

    [Fact]
    public void A_Seventy_B_Model_Should_Serve_On_Eight_Gpus_With_Shard_Sized_Handoffs()
    {
        // Given Llama-3.1-70B as 1 prefill instance of TP 4 and 1 decode instance of TP 4
        var config = Load("model=llama-3.1-70b", "deployment.gpus=[{role: prefill, count: 1, tp: 4}, {role: decode, count: 1, tp: 4}]",
            "workload.num_requests=40");
        var result = SingleRun.Execute(PreparedRun.From(config));

        // Then every request finishes, each handoff moves its KV once per decode GPU (a quarter of the heads each),
        Assert.Equal(40, result.Metrics.Finished);
        var transfers = result.Metrics.Transfers;
        Assert.All(transfers, t => Assert.Equal("gpu_to_gpu", t.Kind));
        Assert.Equal(40, transfers.Count);
        // the collectives are in every pass, and the GPU records are the two instances
        Assert.Equal(2, result.Metrics.Gpus.Count);
        Assert.All(result.Metrics.Gpus, g => Assert.Equal(4, g.Tp));
        Assert.Equal([0, 4], result.Metrics.Gpus.Select(g => g.LocalIndex));
        // and 4 decode GPUs' NVLink inputs each carried a quarter of the KV
        var nvIn = result.Links.Where(l => l.Name.EndsWith("-nvlink-in", StringComparison.Ordinal) && l.BytesCarried > 0).ToList();
        Assert.Equal(4, nvIn.Count);
        Assert.Equal(transfers.Sum(t => t.Bytes), nvIn.Sum(l => l.BytesCarried));
        Assert.Equal(nvIn[0].BytesCarried, nvIn[3].BytesCarried);
    }

    private static readonly Gen<GpuGroup[]> Deployments = Gen.OneOf(
        Gen.Select(Gen.Int[1, 2], Gen.Int[0, 2].Select(i => 1 << i)).Select((n, tp) => new[] { new GpuGroup(GpuRole.Colocated, n, tp) }),
        Gen.Select(Gen.Int[1, 2], Gen.Int[1, 2], Gen.Int[1, 2], Gen.Int[1, 2])
            .Select((p, ptp, d, dtp) => new[] { new GpuGroup(GpuRole.Prefill, p, ptp), new GpuGroup(GpuRole.Decode, d, dtp) }));

    [Fact]
    public void Random_Tensor_Parallel_Deployments_Should_Serve_Every_Request_Once_Within_Memory()
    {
        var cases = Gen.Select(ServingInvariantTests.Cases, Deployments).Where((c, gpus) =>
            !c.Policy.Descriptor.NeedsDisaggregation || gpus.Any(g => g.Role == GpuRole.Prefill));
        Property.ForAll(cases, t =>
        {
            var (c, gpus) = t;
            // Given a random case on random tensor-parallel instances (c.Blocks blocks each)
            var config = ServingInvariantTests.Base with
            {
                Policy = c.Policy,
                Deployment = new DeploymentConfig(c.Nodes, gpus, c.Router, c.Handoff),
                Engine = ServingInvariantTests.Base.Engine with { KvBlocks = c.Blocks },
            };
            var memory = MemoryPlan.For(config.Model, config.Node.Gpu, config.Engine, config.Deployment.TpDegrees()[0]);
            var result = SingleRun.Execute(new PreparedRun(config, c.Requests, memory, WorkloadStats.Given("tp", c.Requests.Length)));

            // Then every request finished once with its tokens, no instance used more blocks than it has, passes did not overlap
            var m = result.Metrics;
            Assert.Equal(c.Requests.Length, m.Finished);
            Metrics.ComputedTokens.AssertEveryTokenComputed(m);
            foreach (var gpu in m.Iterations.GroupBy(it => it.Gpu))
            {
                var list = gpu.ToList();
                for (var i = 0; i < list.Count; i++)
                {
                    Assert.InRange(list[i].KvBlocksUsed, 0, c.Blocks);
                    if (i > 0) Assert.True(list[i].StartNs >= list[i - 1].StartNs + list[i - 1].DurationNs, "one pass at a time");
                }
            }
            Assert.Equal(gpus.Sum(g => g.Count) * c.Nodes, m.Gpus.Count);
        }, iterations: 150);
    }
}
