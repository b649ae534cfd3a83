using CsCheck;
using Policies.Core;
using Policies.Memory;
using Policies.Vllm;
using Simulator.Config;
using Simulator.CostModel;
using Simulator.Metrics;
using Simulator.Output;
using Simulator.Runs;
using Simulator.Serving;

namespace Simulator.Tests.Serving;

/// <summary>
/// Standing decode batches (lazy per-request state, <c>engine.lazy_decode</c>) change how a run is
/// computed, not what it models: each pass's cost equals the per-request estimate, and whole runs equal
/// the reference (<c>lazy_decode: false</c>) file for file, while the standing path demonstrably runs.
/// </summary>
public sealed class StandingDecodeTests
{
    public static TheoryData<string, string, int, string> Shapes => new()
    {
        // OPT-13B on an H100, generic per-head kernel: 40 KV heads, 528 block slots, so requests from the 14th on wait for a wave.
        { "opt-13b", "uniform", 1, "per_head" }, { "opt-13b", "uniform", 13, "per_head" }, { "opt-13b", "uniform", 14, "per_head" },
        { "opt-13b", "uniform", 64, "per_head" }, { "opt-13b", "equal", 50, "per_head" }, { "opt-13b", "outlier-first", 40, "per_head" },
        { "opt-13b", "outlier-last", 40, "per_head" }, { "opt-13b", "outlier-middle", 120, "per_head" }, { "opt-13b", "bimodal", 300, "per_head" },
        { "opt-13b", "skewed", 200, "per_head" }, { "opt-6.7b", "uniform", 256, "per_head" }, { "opt-6.7b", "bimodal", 100, "per_head" },
        // vLLM's own kernels (auto): v1 with one block per query head and its fitted rates, 132 slots, so waves from the 4th request.
        { "opt-13b", "uniform", 1, "auto" }, { "opt-13b", "uniform", 14, "auto" }, { "opt-13b", "equal", 50, "auto" },
        { "opt-13b", "outlier-last", 40, "auto" }, { "opt-13b", "bimodal", 300, "auto" }, { "opt-6.7b", "uniform", 256, "auto" },
        { "llama-3.1-8b", "uniform", 64, "auto" }, { "llama-3.1-8b", "skewed", 200, "paged_v1" },
        // ... and batches vLLM's rule sends to v2 (seqs x heads <= 512 with a request past one partition, or one past 8,192 tokens):
        // 512-token partitions, members crossing into new ones within the 300 passes.
        { "opt-13b", "uniform", 2, "auto" }, { "opt-13b", "uniform", 4, "auto" }, { "opt-13b", "uniform", 12, "auto" },
        { "opt-13b", "equal", 12, "auto" }, { "opt-13b", "outlier-last", 10, "auto" }, { "opt-13b", "outlier-first", 12, "auto" },
        { "opt-13b", "skewed", 40, "auto" }, { "opt-13b", "outlier-middle", 120, "auto" }, { "llama-3.1-8b", "bimodal", 16, "auto" },
        { "llama-3.1-70b", "uniform", 16, "auto" }, { "opt-13b", "bimodal", 60, "paged_v2" }, { "opt-6.7b", "skewed", 300, "paged_v2" },
        // FlashAttention-2 (one split while its heuristic keeps one, else its splits while the partition holds), FlashInfer (stands once
        // batch x KV heads fill its grid; its split plan reads every length and does not stand), the split kernel's filling partitions,
        // and the partitioned kernels with splitting off.
        { "opt-13b", "uniform", 64, "fa2" }, { "llama-3.1-8b", "bimodal", 12, "fa2" }, { "opt-13b", "uniform", 2, "fa2" },
        { "llama-3.1-8b", "uniform", 8, "fa2" }, { "llama-3.1-8b", "outlier-last", 3, "fa2" }, { "opt-13b", "skewed", 200, "flashinfer" },
        { "llama-3.1-8b", "uniform", 20, "flashinfer" }, { "llama-3.1-8b", "uniform", 4, "flashinfer" }, { "opt-13b", "outlier-last", 40, "split_kv" },
        { "opt-13b", "uniform", 3, "split_kv" }, { "llama-3.1-8b", "skewed", 30, "split_kv" }, { "opt-13b", "outlier-last", 40, "split_kv never" },
        { "opt-13b", "uniform", 8, "paged_v2 never" }, { "opt-13b", "uniform", 8, "auto never" },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Each_Standing_Pass_Should_Cost_Exactly_What_The_Per_Request_Estimate_Gives(string model, string shape, int batchSize, string kernel) =>
        AssertEachStandingPassExact(model, shape, batchSize, kernel, tp: 1);

    public static TheoryData<string, string, int, string, int> ShardShapes => new()
    {
        // The TP scenario's model: Llama-3.1-70B on 4 H100s prices one shard (16 query heads, 2 KV heads), so v2 up to 32 requests.
        { "llama-3.1-70b", "uniform", 8, "auto", 4 }, { "llama-3.1-70b", "bimodal", 30, "auto", 4 }, { "llama-3.1-70b", "outlier-last", 32, "auto", 4 },
        { "llama-3.1-70b", "skewed", 45, "auto", 4 }, { "llama-3.1-70b", "uniform", 45, "auto", 4 }, { "llama-3.1-70b", "uniform", 12, "auto", 8 },
        { "llama-2-70b", "bimodal", 20, "auto", 4 }, { "llama-3.1-70b", "uniform", 6, "fa2", 4 },
    };

    [Theory]
    [MemberData(nameof(ShardShapes))]
    public void Each_Standing_Pass_Should_Cost_Exactly_What_The_Per_Request_Estimate_Gives_When_The_Instance_Is_Tensor_Parallel(
        string model, string shape, int batchSize, string kernel, int tp) =>
        AssertEachStandingPassExact(model, shape, batchSize, kernel, tp);

    [Fact]
    public void A_Standing_Batch_Should_Stand_Across_Partition_Crossings_When_Its_Launch_Splits_KV()
    {
        // Given twelve OPT-13B decodes of up to 3,000 tokens, which vLLM's rule runs with v2 (12 x 40 heads <= 512)
        // When they stand for up to 300 passes, each priced exactly (above)
        var standing = AssertEachStandingPassExact("opt-13b", "uniform", 12, "auto", tp: 1);

        // Then the batch stood with 512-token partitions through members' crossings, its sums rebuilt at each
        Assert.NotNull(standing.Partitioned);
        Assert.Equal(AttentionLaunch.PagedPartitionTokens, standing.Shape.PartitionTokens);
        Assert.True(standing.Passes >= 100, $"{standing.Passes} passes");
        Assert.True(standing.Partitioned.Segments > 1, $"{standing.Partitioned.Segments} segments");
    }

    private static StandingDecode AssertEachStandingPassExact(string model, string shape, int batchSize, string kernel, int tp)
    {
        // Given a decode batch of the shape, formed by a vllm policy, and a standing batch started from it
        var parts = kernel.Split(' ');
        var config = ExperimentLoader.Load(RepoPaths.Quickstart,
            [$"model={model}", $"cost_model.attention_kernel={parts[0]}", $"cost_model.attention_split={(parts.Length > 1 ? parts[1] : "auto")}"]);
        var costModel = new ForwardCostModel(config.Model, config.Node.Gpu, config.CostModel, engine: EngineProfile.For("vllm"),
            tensorParallel: tp == 1 ? null : new TensorParallel(config.Model, config.Node.AllReduceFor(tp)!));
        var blocks = new KvBlockManager(1_000_000, 16);
        var policy = new VllmPolicy(new VllmOptions(MaxNumSeqs: 1024, MaxNumBatchedTokens: 1 << 20), new PolicyContext(blocks));
        var random = new Random(batchSize * 7 + shape.Length);
        var lengths = Lengths(shape, batchSize, random);
        for (var i = 0; i < batchSize; i++) policy.EnqueuePrefilled(Request.Prefilled(i, lengths[i], 1000));
        foreach (var pull in policy.Schedule(0).Pulls) policy.KvArrived(pull.Request);
        var batch = policy.Schedule(0);
        Assert.Equal(batchSize, batch.Entries.Count);
        var standing = new StandingDecode(blocks.BlockSizeTokens);
        var planned = costModel.StandingShapeFor(batchSize, batch.Entries.Max(e => e.ContextTokens), batch.Entries.Sum(e => (long)e.ContextTokens));
        Assert.Equal(planned is not null, standing.Start(batch, blocks, int.MaxValue, minimumPasses: 0, costModel.StandingShapeFor));
        if (planned is null)
        {
            // Only a launch whose plan may balance chunks over the batch's lengths (FlashInfer's split) cannot stand.
            Assert.Equal(AttentionKernel.Flashinfer, costModel.LaunchFor(batch.Entries.Select(e => e.ContextTokens).ToArray()).Kernel);
            return standing;
        }

        // (the shape the batch stands with is the launch of its first pass: one block per head, or its partitions)
        Assert.Equal(costModel.LaunchFor(batch.Entries.Select(e => e.ContextTokens).ToArray()).PartitionTokens, standing.Shape.PartitionTokens);

        // When both advance up to 300 passes (as long as the shape holds), Then every pass costs the same, to the nanosecond
        for (var pass = 0; pass < Math.Min(300, standing.Horizon); pass++)
        {
            Assert.Equal(costModel.Estimate(batch), costModel.EstimateStanding(standing));
            Assert.Equal(batch.Entries.Sum(e => (long)e.ContextTokens), standing.TotalTokens);
            Assert.Equal(batch.Entries.Max(e => e.ContextTokens), standing.LongestTokens);
            foreach (var entry in batch.Entries) entry.Request.Advance(1);
            policy.Complete(batch);
            batch = policy.Schedule(0);
            standing.PassDone();
        }
        return standing;
    }

    private static int[] Lengths(string shape, int n, Random random) => shape switch
    {
        "uniform" => [.. Enumerable.Range(0, n).Select(_ => random.Next(20, 3000))],
        "equal" => [.. Enumerable.Repeat(700, n)],
        "outlier-first" => [8000, .. Enumerable.Range(0, n - 1).Select(_ => random.Next(300, 700))],
        "outlier-last" => [.. Enumerable.Range(0, n - 1).Select(_ => random.Next(300, 700)), 8000],
        "outlier-middle" => [.. Enumerable.Range(0, n).Select(i => i == n / 2 ? 16_000 : random.Next(300, 700))],
        "bimodal" => [.. Enumerable.Range(0, n).Select(_ => random.NextDouble() < 0.9 ? random.Next(100, 1000) : random.Next(4000, 8000))],
        "skewed" => [.. Enumerable.Range(0, n).Select(_ => (int)Math.Min(30_000, Math.Exp(random.NextDouble() * 2.5 + random.NextDouble() * 4 + 3)))],
        _ => throw new ArgumentException(shape),
    };

    public static TheoryData<string, string[]> Runs => new()
    {
        { "vllm colocated under load (waves, preemption)", ["workload.num_requests=300", "workload.arrival.rate_per_s=40"] },
        { "vllm burst, long outputs", ["workload.num_requests=200", "workload.arrival={process: burst}", "workload.output={dist: fixed, value: 300}"] },
        { "vllm chunked prefill", ["workload.num_requests=300", "workload.arrival.rate_per_s=30", "policy.chunked_prefill=true"] },
        { "vllm swap, small memory", ["workload.num_requests=200", "workload.arrival.rate_per_s=30", "policy.preemption=swap", "engine.kv_blocks=3000"] },
        { "vllm 2P+2D peer", ["workload.num_requests=300", "workload.arrival.rate_per_s=30", "deployment.gpus=[{role: prefill, count: 2}, {role: decode, count: 2}]"] },
        { "aligned 2P+2D host pool", ["workload.num_requests=300", "workload.arrival.rate_per_s=30", "policy=aligned", "deployment.handoff=host_pool",
            "deployment.gpus=[{role: prefill, count: 2}, {role: decode, count: 2}]"] },
        { "sarathi", ["workload.num_requests=300", "workload.arrival.rate_per_s=30", "policy=sarathi"] },
        { "fastgen", ["workload.num_requests=300", "workload.arrival.rate_per_s=30", "policy=fastgen"] },
        { "orca", ["workload.num_requests=300", "workload.arrival.rate_per_s=20", "policy=orca"] },
        { "distserve 1P+1D", ["workload.num_requests=300", "workload.arrival.rate_per_s=20", "policy=distserve",
            "deployment.gpus=[{role: prefill, count: 1}, {role: decode, count: 1}]"] },
        // Chunked prefill GPUs hand some requests on before their last prompt token: their first and second tokens come from decode passes.
        { "fastgen 2P+2D", ["policy=fastgen", "deployment.gpus=[{role: prefill, count: 2}, {role: decode, count: 2}]"] },
        // Launches that split KV stand with their partitions: long prompts at low load (vLLM's rule picks v2), FlashAttention-2's
        // and the split kernel's splits, and the TP scenario's model on a prefill and a decode instance of 4 GPUs each.
        { "vllm v2, long prompts", ["workload.num_requests=200", "workload.arrival.rate_per_s=4", "workload.prompt={dist: uniform, min: 600, max: 6000}"] },
        { "vllm fa2", ["workload.num_requests=200", "workload.arrival.rate_per_s=6", "cost_model.attention_kernel=fa2"] },
        { "vllm split_kv", ["workload.num_requests=200", "workload.arrival.rate_per_s=6", "cost_model.attention_kernel=split_kv"] },
        { "vllm llama-3.1-70b TP4 prefill + TP4 decode", ["model=llama-3.1-70b", "workload.num_requests=300", "workload.arrival.rate_per_s=6",
            "deployment.gpus=[{role: prefill, count: 1, tp: 4}, {role: decode, count: 1, tp: 4}]"] },
        { "aligned without candidate requests", ["workload.num_requests=300", "workload.arrival.rate_per_s=30", "policy=aligned", "policy.candidate_requests=false",
            "deployment.handoff=host_pool", "deployment.gpus=[{role: prefill, count: 1}, {role: decode, count: 1}]"] },
    };

    [Theory]
    [MemberData(nameof(Runs))]
    public void A_Run_With_Standing_Batches_Should_Write_The_Files_Of_The_Reference_Run(string label, string[] sets)
    {
        // Given the same experiment with standing batches and without
        using var dir = new TempDir();
        RunResult Run(bool lazy, string name)
        {
            var result = SingleRun.Execute(PreparedRun.From(ExperimentLoader.Load(RepoPaths.Quickstart, [.. sets, $"engine.lazy_decode={(lazy ? "true" : "false")}"])));
            Directory.CreateDirectory(Path.Combine(dir.Path, name));
            ResultsWriter.Write(Path.Combine(dir.Path, name), result);
            return result;
        }
        var lazy = Run(true, "lazy");
        var reference = Run(false, "reference");

        // Then the standing path ran a good share of the passes, and every deterministic file is the same
        Assert.Equal(0, reference.Metrics.StandingPasses);
        // (Sarathi mixes a prefill chunk into most passes at this load and stands in about 9% of them.)
        Assert.True(lazy.Metrics.StandingPasses > lazy.Metrics.IterationCount / 20,
            $"{label}: only {lazy.Metrics.StandingPasses} of {lazy.Metrics.IterationCount} passes ran standing");
        foreach (var file in Directory.GetFiles(Path.Combine(dir.Path, "reference")).Select(Path.GetFileName))
        {
            if (ResultsWriter.WallClockFiles.Contains(file) || file == ResultsWriter.ResolvedConfigFile) continue; // the resolved config names the switch
            Assert.True(File.ReadAllBytes(Path.Combine(dir.Path, "reference", file!)).AsSpan()
                .SequenceEqual(File.ReadAllBytes(Path.Combine(dir.Path, "lazy", file!))), $"{label}: {file} differs");
        }
    }

    [Fact]
    public void A_Decode_Instance_Whose_Batch_Changes_Every_Few_Passes_Should_Still_Run_Nearly_All_Of_Them_Standing()
    {
        // Given Llama-3.1-70B on a TP 4 prefill and a TP 4 decode instance, where a request's KV arrives or one finishes every
        // few decode passes
        var run = SingleRun.Execute(PreparedRun.From(ExperimentLoader.Load(RepoPaths.Quickstart, ["model=llama-3.1-70b", "workload.num_requests=300",
            "workload.arrival.rate_per_s=6", "deployment.gpus=[{role: prefill, count: 1, tp: 4}, {role: decode, count: 1, tp: 4}]"])));

        // Then nearly every decode pass stands: the pass in which members finish closes a batch, the survivors stand on when
        // nothing waits, and prefilled requests are pulled and join beside it (a batch that ended at every change stood in 70%)
        var decodePasses = run.Metrics.Iterations.Count(p => p.Gpu == 1);
        Assert.True(run.Metrics.StandingPasses >= 0.9 * decodePasses, $"{run.Metrics.StandingPasses} of {decodePasses} decode passes stood");
    }

    [Fact]
    public void Random_Deployments_Should_Give_The_Same_Metrics_With_And_Without_Standing_Batches()
    {
        // Every policy, tight memory (preemption is common), colocated, disaggregated and mixed deployments.
        long standingPasses = 0, passes = 0;
        Property.ForAll(ServingInvariantTests.Cases, c =>
        {
            var lazy = ServingInvariantTests.Execute(c, lazyDecode: true).Metrics;
            Interlocked.Add(ref standingPasses, lazy.StandingPasses);
            Interlocked.Add(ref passes, lazy.IterationCount);
            var reference = ServingInvariantTests.Execute(c, lazyDecode: false).Metrics;
            void Same<T>(string what, IEnumerable<T> expected, IEnumerable<T> actual)
            {
                var (e, a) = (expected.ToList(), actual.ToList());
                var at = Enumerable.Range(0, Math.Min(e.Count, a.Count)).FirstOrDefault(i => !Equals(e[i], a[i]), -1);
                Assert.True(at < 0 && e.Count == a.Count,
                    $"{what} differ at {at} ({(at >= 0 ? $"{e[at]} vs {a[at]}" : $"{e.Count} vs {a.Count} items")}); case {c}");
            }
            Same("first tokens", reference.FirstTokenNs, lazy.FirstTokenNs);
            Same("second tokens", reference.SecondTokenNs, lazy.SecondTokenNs);
            Same("finishes", reference.FinishNs, lazy.FinishNs);
            Same("preemptions", reference.Preemptions, lazy.Preemptions);
            Same("passes", reference.Iterations, lazy.Iterations);
            Same("transfers", reference.Transfers, lazy.Transfers);
            Same("pool samples", reference.PoolSamples, lazy.PoolSamples);
        }, iterations: int.TryParse(Environment.GetEnvironmentVariable("STANDING_CASES"), out var cases) ? cases : 400);
        // The comparison is not vacuous: standing batches ran in these cases.
        Assert.True(standingPasses > passes / 20, $"only {standingPasses} of {passes} passes ran standing");
    }
}
