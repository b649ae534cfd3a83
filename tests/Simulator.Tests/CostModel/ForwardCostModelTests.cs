using Policies.Core;
using Simulator.CostModel;
using Simulator.Specs;

namespace Simulator.Tests.CostModel;

/// <summary>The closed form against hand-computed rooflines on round numbers.</summary>
public sealed class ForwardCostModelTests
{
    // 1000 bytes/ns HBM, 1e5 FLOP/ns, 100 bytes/ns per block, 80 resident blocks (more than any batch here: no waves).
    private static readonly GpuSpec Gpu = new("toy", SmCount: 10, HbmCapacityGib: 80, HbmBandwidthGbPerS: 1000, DenseTflops: 100,
        PerBlockBandwidthGbPerS: 100, MaxResidentBlocksPerSm: 8, KernelLaunchUs: 0, CopyEngines: 1);

    // 2 layers, 4 heads of 16 (MHA), fp16: 64 bytes of K+V per head per token.
    private static readonly ModelSpec Model = new("toy", Layers: 2, Hidden: 64, Heads: 4, KvHeads: 4, HeadDim: 16, Ffn: 256,
        Vocab: 100, FfnKind.Gelu, MaxPositionTokens: 4096, TiedEmbeddings: true);

    // The generic per-head kernel (the toy GPU has no published kernel rates) and no engine host time: the physics alone.
    private static readonly CostModelConfig Generic = new(AttentionKernel.PerHead, EngineCpu: EngineCpuModel.None);

    private static readonly ForwardCostModel Closed = new(Model, Gpu, Generic);

    /// <summary>The small kernels' activation traffic of a pass, all layers, at the toy's 1000 bytes/ns.</summary>
    private static double ElementwiseNs(double tokens) => Model.Layers * tokens * Model.Hidden * ForwardCostModel.ElementwiseBytesPerTokenHidden / 1000.0;

    private static ForwardBatch Decodes(params int[] kvLengths)
    {
        var batch = new ForwardBatch();
        foreach (var (length, id) in kvLengths.Select((l, i) => (l, i)))
            batch.Add(new BatchEntry(new Request(id, Math.Max(1, length - 1), 10), 1, length));
        return batch;
    }

    [Fact]
    public void Dense_Part_Should_Be_Memory_Bound_At_Batch_One()
    {
        var cost = Closed.Estimate(Decodes(10));

        // Dense time = every layer's weights read once plus the LM head, at 1000 bytes/ns, plus the small kernels' traffic.
        var expected = (Model.Layers * Model.LayerWeightBytes + Model.LmHeadWeightBytes) / 1000.0 + ElementwiseNs(1);
        Assert.Equal(Math.Round(expected), cost.DenseNs);
    }

    [Fact]
    public void Dense_Part_Should_Be_Compute_Bound_For_A_Long_Prefill()
    {
        var batch = new ForwardBatch();
        batch.Add(new BatchEntry(new Request(0, 100_000, 1), 100_000, 100_000));

        var cost = Closed.Estimate(batch);

        var perLayer = 2.0 * 100_000 * Model.ParamsPerLayer / 1e5;
        var lmHead = 2.0 * 1 * Model.Vocab * Model.Hidden / 1e5;
        Assert.Equal(Math.Round(Model.Layers * perLayer + Math.Max(Model.LmHeadWeightBytes / 1000.0, lmHead) + ElementwiseNs(100_000)), cost.DenseNs, 1);
    }

    [Fact]
    public void Balanced_Decode_Attention_Should_Be_Total_Bytes_Over_Aggregate_Rate_With_No_Bubble()
    {
        // 16 requests of 1000 tokens: 16 * 4 heads * 1000 * 64 bytes per layer, at min(1000, 80 * 100) = 1000 bytes/ns.
        var cost = Closed.Estimate(Decodes(Enumerable.Repeat(1000, 16).ToArray()));

        Assert.Equal(Model.Layers * 16 * 4 * 1000 * 64 / 1000.0, cost.DecodeAttentionNs);
        Assert.Equal(0, cost.BubbleNs);
    }

    [Fact]
    public void One_Long_Outlier_Should_Cost_More_Than_A_Batch_With_The_Same_Mean()
    {
        // Same total KV (16,000 tokens), so a batch-mean model would price them equally.
        var uniform = Closed.Estimate(Decodes(Enumerable.Repeat(1000, 16).ToArray()));
        var outlier = Closed.Estimate(Decodes([.. Enumerable.Repeat(500, 15), 8500]));

        // All 64 blocks share 1000 bytes/ns (15.6 each) until the 60 short ones (32,000 bytes) finish at
        // 2,048 ns; the 4 outlier blocks then run alone at 100 bytes/ns for their other 512,000 bytes.
        var makespan = 64 * 32_000 / 1000.0 + (8500 * 64 - 32_000) / 100.0;
        Assert.Equal(Model.Layers * makespan, outlier.DecodeAttentionNs);
        Assert.Equal(Model.Layers * (makespan - 16_000 * 4 * 64 / 1000.0), outlier.BubbleNs);
        Assert.True(outlier.DurationNs > uniform.DurationNs);
    }

    [Fact]
    public void Split_Kv_Should_Cap_The_Longest_Block_At_One_Partition()
    {
        var split = new ForwardCostModel(Model, Gpu, Generic with { AttentionKernel = AttentionKernel.SplitKv, SplitKvPartitionTokens = 512 });
        var cost = split.Estimate(Decodes([.. Enumerable.Repeat(500, 15), 8500]));

        var balanced = 16_000 * 4 * 64 / 1000.0;
        Assert.Equal(Model.Layers * Math.Max(balanced, 512 * 64 / 100.0), cost.DecodeAttentionNs);
        Assert.Equal(0, cost.BubbleNs);
    }

    [Fact]
    public void Prefill_Attention_Should_Grow_Quadratically_With_The_Prompt()
    {
        double PrefillNs(int n)
        {
            var batch = new ForwardBatch();
            batch.Add(new BatchEntry(new Request(0, n, 1), n, n));
            return Closed.Estimate(batch).PrefillAttentionNs;
        }

        // 4 * heads * head_dim * n * (n + 1) / 2 FLOPs per layer.
        Assert.Equal(Math.Round(Model.Layers * 4.0 * 4 * 16 * 4000 * 4001 / 2 / 1e5), PrefillNs(4000));
        Assert.InRange(PrefillNs(8000) / PrefillNs(4000), 3.99, 4.01);
    }

    [Fact]
    public void Duration_Should_Be_The_Sum_Of_Its_Parts()
    {
        var batch = Decodes(100, 2000, 30);
        batch.Add(new BatchEntry(new Request(9, 300, 5), 300, 300));
        var cost = new ForwardCostModel(Model, Gpu with { KernelLaunchUs = 1 }, Generic with { IterationOverheadUs = 5, EngineCpu = EngineCpuModel.VllmV0 })
            .Estimate(batch);

        // Five small kernels and the generic attention kernel per layer; vLLM v0's host time for 4 requests, serialised.
        Assert.Equal(cost.DenseNs + cost.DecodeAttentionNs + cost.PrefillAttentionNs + cost.OverheadNs + cost.HostNs, cost.DurationNs);
        Assert.Equal(Model.Layers * 6 * 1000 + 5000, cost.OverheadNs);
        Assert.Equal(Math.Round((EngineProfile.VllmV0FixedUs + 4 * EngineProfile.VllmV0PerSequenceUs) * 1000), cost.HostNs);
    }

    [Fact]
    public void Overlapped_Host_Time_Should_Delay_A_Pass_Only_By_What_Exceeds_The_Gpu_Time()
    {
        var batch = Decodes(100, 2000, 30);
        var serial = new ForwardCostModel(Model, Gpu, Generic with { EngineCpu = EngineCpuModel.VllmV0 }).Estimate(batch);
        var overlapped = new ForwardCostModel(Model, Gpu, Generic with { EngineCpu = EngineCpuModel.VllmAsync }).Estimate(batch);
        var none = Closed.Estimate(batch);

        var host = (EngineProfile.VllmV0FixedUs + 3 * EngineProfile.VllmV0PerSequenceUs) * 1000;
        Assert.Equal(none.DurationNs + Math.Round(host), serial.DurationNs);
        Assert.Equal(Math.Max(none.DurationNs, Math.Round(host)), overlapped.DurationNs);
    }
}
