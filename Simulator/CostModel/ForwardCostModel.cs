using Policies.Core;
using Simulator.Specs;

namespace Simulator.CostModel;

/// <summary>
/// Closed-form time of a forward pass (DESIGN section 5) on one GPU.
/// <list type="bullet">
/// <item>Dense part per layer, by roofline: max(weight bytes / HBM bandwidth, 2 * tokens * params / FLOP/s).</item>
/// <item>Decode attention per layer from every request's own KV length (never the batch mean):
/// one thread block per (request, kv head) [per KV partition with split-KV], block bytes
/// proportional to its length; blocks share HBM bandwidth, one block cannot exceed the
/// per-block rate, and at most <c>slots</c> blocks are resident: see <see cref="AttentionMakespan"/>
/// for the closed form (with launch-order wave effects) and the exact fluid schedule.</item>
/// <item>Prefill attention per layer: causal QK^T and PV FLOPs, quadratic in the prompt, or
/// reading the earlier context's KV when a chunk continues a prefill, whichever is slower.</item>
/// <item>LM head once per pass, kernel launches per layer, fixed per-pass overhead.</item>
/// </list>
/// </summary>
public sealed class ForwardCostModel
{
    private readonly ModelSpec model;
    private readonly GpuSpec gpu;
    private readonly CostModelConfig config;
    private readonly long kvBlockBytesPerToken;
    private readonly AttentionBlocks blocks;

    public ForwardCostModel(ModelSpec model, GpuSpec gpu, CostModelConfig config)
    {
        this.model = model;
        this.gpu = gpu;
        this.config = config;
        kvBlockBytesPerToken = model.KvHeadBytesPerToken;
        var partition = config.AttentionKernel == AttentionKernel.SplitKv ? config.SplitKvPartitionTokens : int.MaxValue;
        blocks = new AttentionBlocks(model.KvHeads, partition, kvBlockBytesPerToken);
    }

    public IterationCost Estimate(ForwardBatch batch)
    {
        double tokens = 0, prefillNs = 0;
        blocks.Clear();
        var entries = batch.Entries;
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            tokens += entry.NewTokens;
            if (entry.NewTokens == 1) blocks.Add(entry.ContextTokens);
            else prefillNs += PrefillAttentionNsPerLayer(entry);
        }

        var denseNs = Math.Max(model.LayerWeightBytes / gpu.HbmBytesPerNs, 2 * tokens * model.ParamsPerLayer / gpu.FlopsPerNs);
        var (attentionNs, balancedNs) = AttentionNsPerLayer();
        var kernels = config.KernelsPerLayer + (config.AttentionKernel == AttentionKernel.SplitKv && blocks.BlockCount > 0 ? 1 : 0);
        var launchNs = kernels * gpu.KernelLaunchUs * Units.NsPerMicrosecond;

        var lmHeadNs = Math.Max(model.LmHeadWeightBytes / gpu.HbmBytesPerNs, 2.0 * batch.Entries.Count * model.Vocab * model.Hidden / gpu.FlopsPerNs);
        var overheadNs = model.Layers * launchNs + config.IterationOverheadUs * Units.NsPerMicrosecond;

        var dense = Round(model.Layers * denseNs + lmHeadNs);
        var attention = Round(model.Layers * attentionNs);
        var prefill = Round(model.Layers * prefillNs);
        var overhead = Round(overheadNs);
        var bubble = Round(model.Layers * (attentionNs - balancedNs));
        return new IterationCost(dense + attention + prefill + overhead, dense, attention, prefill, overhead, Math.Min(bubble, attention));
    }

    /// <summary>One layer's decode-attention makespan and its perfectly balanced time.</summary>
    private (double Makespan, double Balanced) AttentionNsPerLayer()
    {
        if (blocks.BlockCount == 0) return (0, 0);
        var (bandwidth, perBlock, slots) = (gpu.HbmBytesPerNs, gpu.PerBlockBytesPerNs, gpu.ResidentBlockSlots);
        var balanced = AttentionMakespan.BalancedNs(blocks, bandwidth, perBlock, slots);
        var makespan = config.AttentionMode == AttentionMode.Exact
            ? AttentionMakespan.ExactNs(blocks, bandwidth, perBlock, slots)
            : AttentionMakespan.ClosedFormNs(blocks, bandwidth, perBlock, slots);
        return (Math.Max(makespan, balanced), balanced);
    }

    /// <summary>Causal attention of a prefill chunk of n tokens after s computed ones, one layer.</summary>
    private double PrefillAttentionNsPerLayer(BatchEntry entry)
    {
        double n = entry.NewTokens;
        double s = entry.ContextTokens - entry.NewTokens;
        // QK^T and PV: 2 matmuls * 2 FLOPs per multiply-add, each query attends to s + (its position) keys.
        var flops = 4.0 * model.Heads * model.HeadDim * n * (s + (n + 1) / 2);
        var contextBytes = s * kvBlockBytesPerToken * model.KvHeads;
        return Math.Max(flops / gpu.FlopsPerNs, contextBytes / gpu.HbmBytesPerNs);
    }

    private static long Round(double ns) => (long)Math.Round(ns);
}
