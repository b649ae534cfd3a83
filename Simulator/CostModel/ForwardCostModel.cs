using Policies.Core;
using Simulator.Calibration;
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
/// With a calibration's tables (<see cref="CalibratedCosts"/>), decode attention is the closed form
/// times the measured correction interpolated for the batch, the dense part is the measured
/// per-layer time, and per-layer launches are those the tables did not measure; outside the tables
/// the closed form stands. <c>attention_lengths: mean</c> prices decode attention as if every
/// request had the batch's mean KV length (the batch-mean model, for comparison).
/// </summary>
public sealed class ForwardCostModel
{
    private readonly ModelSpec model;
    private readonly GpuSpec gpu;
    private readonly CostModelConfig config;
    private readonly long kvBlockBytesPerToken;
    private readonly AttentionBlocks blocks;
    private readonly AttentionBlocks rows;
    private readonly CalibratedCosts? calibrated;

    public ForwardCostModel(ModelSpec model, GpuSpec gpu, CostModelConfig config, CalibrationTables? calibration = null)
    {
        this.model = model;
        this.gpu = gpu;
        this.config = config;
        kvBlockBytesPerToken = model.KvHeadBytesPerToken;
        var partition = config.AttentionKernel == AttentionKernel.SplitKv ? config.SplitKvPartitionTokens : int.MaxValue;
        blocks = new AttentionBlocks(model.KvHeads, partition, kvBlockBytesPerToken);
        rows = new AttentionBlocks(model.KvHeads, int.MaxValue, kvBlockBytesPerToken);
        if (calibration is not null) calibrated = new CalibratedCosts(calibration, ClosedFormLayerNs);
    }

    /// <summary>How much of the run the calibration's tables covered (null without a calibration, or when they covered all of it).</summary>
    public string? CalibrationReport() => calibrated?.Report();

    /// <summary>The closed form's decode-attention time of one layer for a batch of KV lengths.</summary>
    private double ClosedFormLayerNs(AttentionKernel kernel, IReadOnlyList<int> lengths)
    {
        var b = new AttentionBlocks(blocks.KvHeads, kernel == AttentionKernel.SplitKv ? config.SplitKvPartitionTokens : int.MaxValue, blocks.BytesPerToken);
        foreach (var length in lengths) b.Add(length);
        return Math.Max(AttentionMakespan.ClosedFormNs(b, gpu.HbmBytesPerNs, gpu.PerBlockBytesPerNs, gpu.ResidentBlockSlots),
            AttentionMakespan.BalancedNs(b, gpu.HbmBytesPerNs, gpu.PerBlockBytesPerNs, gpu.ResidentBlockSlots));
    }

    public IterationCost Estimate(ForwardBatch batch)
    {
        double tokens = 0, prefillNs = 0;
        blocks.Clear();
        rows.Clear();
        var entries = batch.Entries;
        var prefillRows = calibrated?.PrefillAsRows == true;
        var meanLengths = config.AttentionLengths == AttentionLengths.Mean;
        int decodes = 0, decodeMax = 0;
        long decodeSum = 0;
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            tokens += entry.NewTokens;
            if (entry.NewTokens == 1)
            {
                decodes++;
                decodeSum += entry.ContextTokens;
                decodeMax = Math.Max(decodeMax, entry.ContextTokens);
                if (!meanLengths) blocks.Add(entry.ContextTokens);
            }
            else if (prefillRows)
                for (var p = entry.ContextTokens - entry.NewTokens; p < entry.ContextTokens; p++) rows.Add(p + 1);
            else prefillNs += PrefillAttentionNsPerLayer(entry);
        }
        var decodeMean = decodes == 0 ? 0 : (double)decodeSum / decodes;
        if (meanLengths && decodes > 0)
        {
            // The batch-mean model: every decode request at the mean length, blind to a long outlier.
            var at = (int)Math.Round(decodeMean);
            for (var i = 0; i < decodes; i++) blocks.Add(at);
        }
        var spreadMax = meanLengths ? decodeMean : decodeMax; // the table lookup sees no spread in the batch-mean model

        var (attentionNs, balancedNs) = AttentionNsPerLayer();
        if (blocks.BlockCount > 0 && calibrated?.AttentionFactor(config.AttentionKernel, decodes, decodeMean, spreadMax) is { } factor)
        {
            attentionNs *= factor;
            balancedNs *= factor;
        }
        if (rows.BlockCount > 0) prefillNs += RowsNsPerLayer();
        return Compose(tokens, batch.Entries.Count, attentionNs, balancedNs, prefillNs, blocks.BlockCount > 0);
    }

    /// <summary>A pass's cost from its per-layer parts: dense and LM head by roofline (or measured), launches, overhead.</summary>
    private IterationCost Compose(double tokens, int entries, double attentionNs, double balancedNs, double prefillNs, bool decodeAttention)
    {
        var denseNs = calibrated?.DenseNs(tokens)
                      ?? Math.Max(model.LayerWeightBytes / gpu.HbmBytesPerNs, 2 * tokens * model.ParamsPerLayer / gpu.FlopsPerNs);
        // Measured tables already hold their kernels' launches: only the KV append's stays (and split-KV's reduction is in the table).
        var measured = calibrated is { HasDense: true } && calibrated.HasAttention(config.AttentionKernel);
        var kernels = measured ? 1 : config.KernelsPerLayer + (config.AttentionKernel == AttentionKernel.SplitKv && decodeAttention ? 1 : 0);
        var launchNs = kernels * gpu.KernelLaunchUs * Units.NsPerMicrosecond;

        var lmHeadNs = Math.Max(model.LmHeadWeightBytes / gpu.HbmBytesPerNs, 2.0 * entries * model.Vocab * model.Hidden / gpu.FlopsPerNs);
        var overheadNs = model.Layers * launchNs + config.IterationOverheadUs * Units.NsPerMicrosecond;

        var dense = Round(model.Layers * denseNs + lmHeadNs);
        var attention = Round(model.Layers * attentionNs);
        var prefill = Round(model.Layers * prefillNs);
        var overhead = Round(overheadNs);
        var bubble = Round(model.Layers * (attentionNs - balancedNs));
        return new IterationCost(dense + attention + prefill + overhead, dense, attention, prefill, overhead, Math.Max(0, Math.Min(bubble, attention)));
    }

    /// <summary>
    /// This model's attention shape and GPU rates for standing batches (<see cref="Serving.StandingDecode"/>), or null:
    /// their incremental sums reproduce the closed form only with one block per head and each request's own length, uncalibrated.
    /// </summary>
    public Serving.StandingShape? StandingShape => calibrated is null && config.AttentionMode == AttentionMode.ClosedForm
                                                   && config.AttentionLengths == AttentionLengths.Own && config.AttentionKernel == AttentionKernel.PerHead
        ? new Serving.StandingShape(blocks.KvHeads, AttentionMakespan.SaturatingBlocks(gpu.HbmBytesPerNs, gpu.PerBlockBytesPerNs, gpu.ResidentBlockSlots),
            blocks.BytesPerToken, gpu.HbmBytesPerNs, gpu.PerBlockBytesPerNs, gpu.ResidentBlockSlots)
        : null;

    /// <summary>The current pass of a standing batch: what <see cref="Estimate"/> gives for it, from the batch's incremental sums.</summary>
    public IterationCost EstimateStanding(Serving.StandingDecode standing)
    {
        var (bandwidth, perBlock, slots) = (gpu.HbmBytesPerNs, gpu.PerBlockBytesPerNs, gpu.ResidentBlockSlots);
        var b = standing.BytesPerToken;
        var totalBytes = AttentionBlocks.BytesOfRequests(standing.TotalTokens, standing.KvHeads, b);
        var balanced = totalBytes / AttentionMakespan.Aggregate(bandwidth, perBlock, slots);
        var (capped, cap) = standing.Capped();
        var shared = AttentionMakespan.SharedNs(capped, standing.LongestTokens, cap, b, bandwidth, perBlock, slots);
        var launch = Math.Max(AttentionMakespan.FloorNs(totalBytes, standing.LongestTokens, b, bandwidth, perBlock, slots),
            standing.LaunchOrderNs());
        var makespan = Math.Max(Math.Max(shared, launch), balanced);
        return Compose(standing.Count, standing.Count, makespan, balanced, 0, true);
    }

    /// <summary>Prefill tokens as causal rows through the decode-attention kernel (a calibration of RealRunner's engine says so).</summary>
    private double RowsNsPerLayer()
    {
        var bandwidth = gpu.HbmBytesPerNs;
        var ns = Math.Max(AttentionMakespan.ClosedFormNs(rows, bandwidth, gpu.PerBlockBytesPerNs, gpu.ResidentBlockSlots),
            AttentionMakespan.BalancedNs(rows, bandwidth, gpu.PerBlockBytesPerNs, gpu.ResidentBlockSlots));
        var count = rows.RequestCount;
        var mean = (double)rows.TotalTokens / count;
        var max = rows.LongestBlockTokens;
        return ns * (calibrated!.AttentionFactor(AttentionKernel.PerHead, count, mean, max) ?? 1);
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
