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
/// per-block rate, and at most <c>slots</c> blocks are resident, so the makespan is
/// max(total bytes / min(BW, slots * rate), longest block / rate).</item>
/// <item>Prefill attention per layer: causal QK^T and PV FLOPs, quadratic in the prompt, or
/// reading the earlier context's KV when a chunk continues a prefill, whichever is slower.</item>
/// <item>LM head once per pass, kernel launches per layer, fixed per-pass overhead.</item>
/// </list>
/// Not modelled here yet: wave quantisation of the attention blocks (the exact block-level
/// mode that checks this bound comes with the node model).
/// </summary>
public sealed class ForwardCostModel
{
    private readonly ModelSpec model;
    private readonly GpuSpec gpu;
    private readonly CostModelConfig config;
    private readonly double aggregateBytesPerNs;
    private readonly long kvBlockBytesPerToken;

    public ForwardCostModel(ModelSpec model, GpuSpec gpu, CostModelConfig config)
    {
        this.model = model;
        this.gpu = gpu;
        this.config = config;
        aggregateBytesPerNs = Math.Min(gpu.HbmBytesPerNs, gpu.ResidentBlockSlots * gpu.PerBlockBytesPerNs);
        kvBlockBytesPerToken = model.KvHeadBytesPerToken;
    }

    public IterationCost Estimate(ForwardBatch batch)
    {
        double tokens = 0, decodeBytes = 0, longestBlockBytes = 0, prefillNs = 0;
        var splitTokens = config.AttentionKernel == AttentionKernel.SplitKv ? config.SplitKvPartitionTokens : int.MaxValue;
        var entries = batch.Entries;
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            tokens += entry.NewTokens;
            if (entry.NewTokens == 1)
            {
                var length = entry.ContextTokens;
                decodeBytes += (double)length * kvBlockBytesPerToken * model.KvHeads;
                longestBlockBytes = Math.Max(longestBlockBytes, (double)Math.Min(length, splitTokens) * kvBlockBytesPerToken);
            }
            else prefillNs += PrefillAttentionNsPerLayer(entry);
        }

        var denseNs = Math.Max(model.LayerWeightBytes / gpu.HbmBytesPerNs, 2 * tokens * model.ParamsPerLayer / gpu.FlopsPerNs);
        var balancedNs = decodeBytes / aggregateBytesPerNs;
        var attentionNs = decodeBytes > 0 ? Math.Max(balancedNs, longestBlockBytes / gpu.PerBlockBytesPerNs) : 0;
        var kernels = config.KernelsPerLayer + (config.AttentionKernel == AttentionKernel.SplitKv && decodeBytes > 0 ? 1 : 0);
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
