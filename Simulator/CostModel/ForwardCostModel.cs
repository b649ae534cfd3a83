using Policies.Core;
using Simulator.Calibration;
using Simulator.Specs;

namespace Simulator.CostModel;

/// <summary>
/// Time of a forward pass (DESIGN section 5) on one GPU, from achievable (measured) rates where the catalog has them.
/// <list type="bullet">
/// <item>Dense part per layer: four GEMMs (fused QKV, output, up or fc1, down or fc2), each a fixed time plus the longer of
/// streaming the weights and computing at the GPU's measured rate for the pass's token count (<see cref="GemmRates"/>); the
/// small kernels (norms, rotary, activation, residual) at least a launch each plus their activation traffic. Without
/// measured GEMM rates, the roofline on hbm_bandwidth and dense_tflops.</item>
/// <item>Decode attention per layer from every request's own KV length (never the batch mean), launched as its kernel family
/// builds it (<see cref="AttentionLaunch"/>): blocks per (request, head, split) share HBM bandwidth, no block exceeds its
/// per-block rate, at most <c>slots</c> are resident; <see cref="AttentionMakespan"/> gives the closed form (with launch-order
/// waves) or the exact fluid schedule; plus the launch's fixed time.</item>
/// <item>Prefill attention per layer: the chunk's causal square at the measured rate for its length, its queries against
/// earlier context at the measured context rate, or reading that context, whichever is slower.</item>
/// <item>LM head once per pass, and the engine's host time (<see cref="EngineProfile"/>), serialised or overlapped.</item>
/// </list>
/// With a calibration's tables (<see cref="CalibratedCosts"/>), decode attention is the closed form times the measured
/// correction interpolated for the batch, the dense part is the measured per-layer time; outside the tables the model
/// stands. <c>attention_lengths: mean</c> prices decode attention as if every request had the batch's mean KV length.
/// </summary>
public sealed class ForwardCostModel : IStandingCosts
{
    /// <summary>GEMMs per layer: fused QKV, attention output, MLP up (fused gate and up for SwiGLU) or fc1, MLP down or fc2 (vLLM's layers).</summary>
    public const int GemmsPerLayer = 4;

    /// <summary>
    /// Activation traffic of a layer's small kernels, bytes per token per hidden unit, at the HBM rate: Vidur's five small
    /// ops (two norms, rotary, activation, residual add) on Llama-2-7B grow by 0.654 ms (A100) and 0.368 ms (H100) from 1 to
    /// 4,096 tokens (microsoft/vidur@7d47513, data/profiling/compute/{a100,h100}/meta-llama/Llama-2-7b-hf/mlp.csv), which is
    /// 70 and 65 bytes per token per hidden unit at 1,784 and 2,980 GB/s.
    /// </summary>
    public const double ElementwiseBytesPerTokenHidden = 68;

    private readonly ModelSpec model;
    private readonly GpuSpec gpu;
    private readonly CostModelConfig config;
    /// <summary>The kernel this model launches: the configured one, or the engine's when auto (itself auto for vLLM's rule).</summary>
    private readonly AttentionKernel configuredKernel;
    private readonly (double FixedUs, double PerSequenceUs, HostOverlap Overlap)? host;
    private readonly AttentionBlocks blocks;
    private readonly AttentionBlocks rows;
    private readonly CalibratedCosts? calibrated;
    private readonly TensorParallel? tensorParallel;
    private int[] decodeLengths = new int[64];
    private double denseTokens = -1;
    private int denseEntries = -1;
    private long denseValue;
    /// <summary>Pure decode batches up to this size keep their dense time (<see cref="DenseNs"/>).</summary>
    private const int DecodeDenseCached = 1024;
    private readonly long[] decodeDense = Enumerable.Repeat(-1L, DecodeDenseCached).ToArray();

    /// <param name="tensorParallel">The instance's collectives when it spans several GPUs: every pass is then priced on one GPU's shard
    /// (<see cref="ModelSpec.Shard"/>: its heads, KV heads, MLP units and vocabulary), every shard alike, plus the collectives.</param>
    public ForwardCostModel(ModelSpec model, GpuSpec gpu, CostModelConfig config, CalibrationTables? calibration = null, EngineProfile? engine = null,
        TensorParallel? tensorParallel = null)
    {
        if (tensorParallel is not null && calibration is not null)
            throw new ArgumentException("A calibration measured one GPU running the whole model; it cannot price a tensor-parallel shard.", nameof(calibration));
        this.tensorParallel = tensorParallel;
        this.model = tensorParallel is null ? model : model.Shard(tensorParallel.Gpus);
        this.gpu = gpu;
        this.config = config;
        Engine = engine ?? EngineProfile.For("vllm");
        // A calibration profiles RealRunner's own kernel: auto then means that kernel, since the device runs it.
        var engineKernel = calibration is { Attention.Count: > 0 }
            ? Enum.GetValues<AttentionKernel>().First(k => Config.ConfigNames.EnumName(k) == calibration.Attention[0].Kernel)
            : Engine.Kernel;
        configuredKernel = config.AttentionKernel == AttentionKernel.Auto ? engineKernel : config.AttentionKernel;
        host = config.EngineCpu switch
        {
            EngineCpuModel.None => null,
            _ => (config.EngineCpuFixedUs ?? Engine.HostFixedUs, config.EngineCpuPerSequenceUs ?? Engine.HostPerSequenceUs,
                config.EngineCpu switch
                {
                    EngineCpuModel.VllmV0 => HostOverlap.Serialised,
                    EngineCpuModel.VllmAsync => HostOverlap.Overlapped,
                    _ => Engine.Overlap,
                }),
        };
        blocks = new AttentionBlocks(this.model.KvHeads, int.MaxValue, this.model.KvHeadBytesPerToken);
        rows = new AttentionBlocks(this.model.KvHeads, int.MaxValue, this.model.KvHeadBytesPerToken);
        if (calibration is not null) calibrated = new CalibratedCosts(calibration, ClosedFormLayerNs, PrefillAttentionNsPerLayer);
    }

    /// <summary>The engine whose kernel choice and host time the passes pay.</summary>
    public EngineProfile Engine { get; }

    /// <summary>How much of the run the calibration's tables covered (null without a calibration, or when they covered all of it).</summary>
    public string? CalibrationReport() => calibrated?.Report();

    /// <summary>The kernel a launch of <paramref name="requests"/> decodes with this longest KV runs.</summary>
    public AttentionKernel KernelFor(int requests, int longestTokens) =>
        configuredKernel == AttentionKernel.Auto ? AttentionLaunch.VllmChoice(requests, model.Heads, longestTokens) : configuredKernel;

    /// <summary>The launch a batch of decode KV lengths makes.</summary>
    public AttentionLaunch LaunchFor(ReadOnlySpan<int> lengths) => PlanFor(null, lengths);

    /// <summary>The launch of <paramref name="kernel"/> (null: the one this model picks) for a batch of decode KV lengths.</summary>
    private AttentionLaunch PlanFor(AttentionKernel? kernel, ReadOnlySpan<int> lengths)
    {
        int longest = 0;
        long total = 0;
        foreach (var length in lengths)
        {
            longest = Math.Max(longest, length);
            total += length;
        }
        return AttentionLaunch.Plan(kernel ?? KernelFor(lengths.Length, longest), model, gpu, config, lengths.Length, longest, total, lengths);
    }

    /// <summary>The closed form's decode-attention time of one layer for a batch of KV lengths with a kernel (calibration factors use it).</summary>
    private double ClosedFormLayerNs(AttentionKernel kernel, IReadOnlyList<int> lengths)
    {
        var array = lengths.ToArray();
        return LaunchNs(PlanFor(kernel, array), array, AttentionMode.ClosedForm);
    }

    /// <summary>One decode-attention launch's time for given KV lengths, one layer, ns (the accuracy report uses it).</summary>
    public double DecodeAttentionLayerNs(ReadOnlySpan<int> lengths) => LaunchNs(LaunchFor(lengths), lengths, config.AttentionMode);

    /// <summary>A launch's makespan over fresh blocks plus its fixed time (off the per-pass path, which reuses its blocks).</summary>
    private static double LaunchNs(AttentionLaunch launch, ReadOnlySpan<int> lengths, AttentionMode mode)
    {
        var b = new AttentionBlocks(launch.HeadsPerRequest, launch.PartitionTokens, launch.BytesPerToken);
        foreach (var length in lengths) b.Add(length);
        return MakespanNs(b, launch, mode).Makespan + launch.FixedNs;
    }

    public IterationCost Estimate(ForwardBatch batch)
    {
        double tokens = 0, prefillNs = 0;
        rows.Clear();
        var entries = batch.EntrySpan;
        var prefillRows = calibrated?.PrefillAsRows == true;
        int decodes = 0, decodeMax = 0;
        long decodeSum = 0;
        if (decodeLengths.Length < entries.Length) decodeLengths = new int[Math.Max(entries.Length, 2 * decodeLengths.Length)];
        for (var i = 0; i < entries.Length; i++)
        {
            var entry = entries[i];
            tokens += entry.NewTokens;
            if (entry.NewTokens == 1)
            {
                decodeLengths[decodes++] = entry.ContextTokens;
                decodeSum += entry.ContextTokens;
                decodeMax = Math.Max(decodeMax, entry.ContextTokens);
            }
            else if (prefillRows)
                for (var p = entry.ContextTokens - entry.NewTokens; p < entry.ContextTokens; p++) rows.Add(p + 1);
            else prefillNs += CalibratedPrefillNsPerLayer(entry.NewTokens, entry.ContextTokens - entry.NewTokens);
        }
        var decodeMean = decodes == 0 ? 0 : (double)decodeSum / decodes;
        double attentionNs = 0, balancedNs = 0;
        var genericLaunches = 0;
        if (decodes > 0)
        {
            var meanLengths = config.AttentionLengths == AttentionLengths.Mean;
            if (meanLengths)
            {
                // The batch-mean model: every decode request at the mean length, blind to a long outlier.
                var at = (int)Math.Round(decodeMean);
                Array.Fill(decodeLengths, at, 0, decodes);
                (decodeMax, decodeSum) = (at, (long)at * decodes);
            }
            var lengths = decodeLengths.AsSpan(0, decodes);
            var kernel = KernelFor(decodes, decodeMax);
            var launch = AttentionLaunch.Plan(kernel, model, gpu, config, decodes, decodeMax, decodeSum, lengths);
            blocks.Configure(launch.HeadsPerRequest, launch.PartitionTokens, launch.BytesPerToken);
            foreach (var length in lengths) blocks.Add(length);
            (attentionNs, balancedNs) = MakespanNs(blocks, launch, config.AttentionMode);
            // The table lookup sees no spread in the batch-mean model.
            if (calibrated?.AttentionFactor(kernel, decodes, decodeMean, decodeMax) is { } factor)
            {
                attentionNs *= factor;
                balancedNs *= factor;
            }
            attentionNs += launch.FixedNs;
            balancedNs += launch.FixedNs;
            genericLaunches = GenericLaunches(kernel, launch);
        }
        if (rows.BlockCount > 0) prefillNs += RowsNsPerLayer();
        return Compose(tokens, entries.Length, attentionNs, balancedNs, prefillNs, genericLaunches);
    }

    /// <summary>
    /// Launches a kernel without published rates pays at the GPU's generic kernel_launch_us: one, and one more for split-KV's
    /// reduction when the launch split; a published family's fixed time is in its <see cref="AttentionLaunch.FixedNs"/>.
    /// </summary>
    private int GenericLaunches(AttentionKernel kernel, AttentionLaunch launch) =>
        AttentionLaunch.RatesOrNull(gpu, kernel) is not null ? 0 : 1 + (launch.OneBlockPerHead ? 0 : 1);

    private static (double Makespan, double Balanced) MakespanNs(AttentionBlocks b, AttentionLaunch launch, AttentionMode mode)
    {
        if (b.BlockCount == 0) return (0, 0);
        var balanced = AttentionMakespan.BalancedNs(b, launch.Bandwidth, launch.PerBlock, launch.Slots);
        var makespan = mode == AttentionMode.Exact
            ? AttentionMakespan.ExactNs(b, launch.Bandwidth, launch.PerBlock, launch.Slots)
            : AttentionMakespan.ClosedFormNs(b, launch.Bandwidth, launch.PerBlock, launch.Slots, launchOrder: !launch.Balanced);
        return (Math.Max(makespan, balanced), balanced);
    }

    /// <summary>
    /// A pass's cost from its per-layer parts: dense GEMMs and small kernels, LM head, launches, the engine's host time.
    /// <paramref name="genericAttentionLaunches"/>: generic launches decode attention paid (<see cref="GenericLaunches"/>).
    /// </summary>
    private IterationCost Compose(double tokens, int entries, double attentionNs, double balancedNs, double prefillNs, int genericAttentionLaunches)
    {
        var dense = DenseNs(tokens, entries);
        // Measured tables already hold their kernels' launches: only the KV append's stays (and split-KV's reduction is in the table).
        var measured = calibrated is { HasDense: true } && calibrated.HasAttention(configuredKernel);
        var kernels = measured ? 1 : config.KernelsPerLayer + genericAttentionLaunches;
        var launchNs = kernels * gpu.KernelLaunchUs * Units.NsPerMicrosecond;

        var overheadNs = model.Layers * launchNs + config.IterationOverheadUs * Units.NsPerMicrosecond;

        var attention = Round(model.Layers * attentionNs);
        var prefill = Round(model.Layers * prefillNs);
        var overhead = Round(overheadNs);
        var bubble = Round(model.Layers * (attentionNs - balancedNs));
        var collectives = tensorParallel is null ? 0 : Round(tensorParallel.PassNs(tokens, entries));
        var gpuNs = dense + attention + prefill + overhead + collectives;
        var hostNs = host is var (fixedUs, perSequenceUs, _) && entries > 0
            ? Round((fixedUs + perSequenceUs * entries) * Units.NsPerMicrosecond) : 0;
        // Overlapped: the host's work hides behind the pass, and only what it exceeds the pass by delays the GPU.
        var waitNs = host?.Overlap == HostOverlap.Overlapped ? Math.Max(0, hostNs - gpuNs) : hostNs;
        return new IterationCost(gpuNs + waitNs, dense, attention, prefill, overhead, Math.Max(0, Math.Min(bubble, attention)), waitNs, collectives);
    }

    /// <summary>
    /// The dense layers and the LM head of a pass of <paramref name="tokens"/> new tokens over <paramref name="entries"/> requests,
    /// all layers. The last value is kept: a standing batch prices the same shape pass after pass (the rate curves' logarithms
    /// cost more than the rest of its pass). A calibration's table counts its lookups, so it is asked every time.
    /// </summary>
    private long DenseNs(double tokens, int entries)
    {
        if (calibrated is null && tokens == denseTokens && entries == denseEntries) return denseValue;
        // Pure decode passes (a token per request) by batch size: the prefill and decode instances of a size share this model,
        // so their passes alternate and the last value alone misses.
        var decode = calibrated is null && tokens == entries && entries < DecodeDenseCached;
        if (decode && decodeDense[entries] is var known and >= 0)
        {
            (denseTokens, denseEntries, denseValue) = (tokens, entries, known);
            return known;
        }
        var perLayer = calibrated?.DenseNs(tokens) ?? LayerGemmsNs(tokens, model.LayerWeightBytes, model.ParamsPerLayer, GemmsPerLayer)
            + tokens * model.Hidden * ElementwiseBytesPerTokenHidden / gpu.HbmBytesPerNs;
        var lmHeadNs = LayerGemmsNs(entries, model.LmHeadWeightBytes, (long)model.Vocab * model.Hidden, 1);
        (denseTokens, denseEntries, denseValue) = (tokens, entries, Round(model.Layers * perLayer + lmHeadNs));
        if (decode) decodeDense[entries] = denseValue;
        return denseValue;
    }

    /// <summary>
    /// GEMMs of <paramref name="tokens"/> rows over <paramref name="weightBytes"/> of weights: measured rates when the GPU has them
    /// (<paramref name="gemms"/> fixed times, then the longer of streaming and computing at the rate measured for this M), else the roofline.
    /// </summary>
    private double LayerGemmsNs(double tokens, long weightBytes, long parameters, int gemms)
    {
        var flops = 2 * tokens * parameters;
        if (gpu.Gemm is not { } rates) return Math.Max(weightBytes / gpu.HbmBytesPerNs, flops / gpu.FlopsPerNs);
        var tflops = RateCurve.TflopsAt(rates.TflopsByTokens, Math.Max(1, tokens));
        return gemms * rates.LaunchUs * Units.NsPerMicrosecond + Math.Max(weightBytes / rates.StreamGbPerS, flops / (tflops * 1000));
    }

    /// <summary>
    /// Whether this model's passes can run as standing batches (the serving loop's standing decode): their incremental sums
    /// reproduce the closed form only with each request's own length, uncalibrated.
    /// </summary>
    public bool SupportsStanding => calibrated is null && config.AttentionMode == AttentionMode.ClosedForm && config.AttentionLengths == AttentionLengths.Own;

    /// <summary>
    /// The attention shape and rates a standing batch of <paramref name="requests"/> decodes whose longest KV is
    /// <paramref name="longestTokens"/> prices its passes with, or null when its launch balances a plan over the batch's
    /// lengths (FlashInfer's split: its chunk depends on every length, not on the longest).
    /// A launch that splits KV stands with its partition (<see cref="PartitionedStandingSums"/>) while its plan keeps it.
    /// </summary>
    public StandingShape? StandingShapeFor(int requests, int longestTokens, long totalTokens)
    {
        if (!SupportsStanding) return null;
        var kernel = KernelFor(requests, longestTokens);
        var launch = AttentionLaunch.Plan(kernel, model, gpu, config, requests, longestTokens, totalTokens, withLimit: true);
        if (launch.Balanced) return null;
        // Under vLLM's rule a v1 launch stays v1 only up to the rule's limit (a v2 one stays v2 as lengths grow).
        var limit = configuredKernel == AttentionKernel.Auto && kernel == AttentionKernel.PagedV1
            ? Math.Min(launch.LongestLimitTokens, AttentionLaunch.VllmV1LimitTokens(requests, model.Heads))
            : launch.LongestLimitTokens;
        return new StandingShape(launch.HeadsPerRequest, AttentionMakespan.SaturatingBlocks(launch.Bandwidth, launch.PerBlock, launch.Slots),
            launch.BytesPerToken, launch.Bandwidth, launch.PerBlock, launch.Slots, launch.FixedNs, limit, GenericLaunches(kernel, launch),
            launch.PartitionTokens);
    }

    /// <summary>The current pass of a standing batch: what <see cref="Estimate"/> gives for it, from the batch's incremental sums.</summary>
    public IterationCost EstimateStanding(IStandingSums standing)
    {
        var shape = standing.Shape;
        var (bandwidth, perBlock, slots) = (shape.Bandwidth, shape.PerBlock, shape.Slots);
        var b = shape.BytesPerToken;
        var totalBytes = AttentionBlocks.BytesOfRequests(standing.TotalTokens, shape.KvHeads, b);
        var balanced = totalBytes / AttentionMakespan.Aggregate(bandwidth, perBlock, slots);
        // A split launch's largest block is a partition once the longest member spans more than one.
        var longestBlock = Math.Min(standing.LongestTokens, shape.PartitionTokens);
        var (capped, cap) = standing.Capped();
        var shared = AttentionMakespan.SharedNs(capped, longestBlock, cap, b, bandwidth, perBlock, slots);
        var launch = Math.Max(Math.Max(AttentionMakespan.FloorNs(totalBytes, longestBlock, b, bandwidth, perBlock, slots),
            standing.LaunchOrderNs()), standing.WavesNs());
        var makespan = Math.Max(Math.Max(shared, launch), balanced);
        return Compose(standing.Count, standing.Count, makespan + shape.FixedNs, balanced + shape.FixedNs, 0, shape.GenericLaunches);
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

    /// <summary>
    /// Causal attention of a prefill chunk of n tokens after s computed ones, one layer: QK^T and PV, 2 FLOPs per
    /// multiply-add, n(n+1)/2 query-key pairs in the causal square and n*s against the context; each part at its
    /// measured rate (or dense_tflops without one), and never faster than reading the context's KV.
    /// </summary>
    private double PrefillAttentionNsPerLayer(int newTokens, int computedTokens)
    {
        double n = newTokens;
        double s = computedTokens;
        var perPair = 4.0 * model.Heads * model.HeadDim;
        var causal = perPair * n * (n + 1) / 2;
        var context = perPair * n * s;
        var contextBytes = s * model.KvHeadBytesPerToken * model.KvHeads;
        var computeNs = gpu.PrefillAttention is { } rates
            ? causal / (RateCurve.TflopsAt(rates.CausalTflopsByTokens, n) * 1000) + context / (rates.ContextTflops * 1000)
            : (causal + context) / gpu.FlopsPerNs;
        return Math.Max(computeNs, contextBytes / gpu.HbmBytesPerNs);
    }

    /// <summary>The closed form's prefill attention, corrected by a calibration's prefill samples inside their range (a Vidur profile's).</summary>
    private double CalibratedPrefillNsPerLayer(int newTokens, int computedTokens)
    {
        var ns = PrefillAttentionNsPerLayer(newTokens, computedTokens);
        return calibrated?.PrefillFactor(newTokens, computedTokens) is { } factor ? ns * factor : ns;
    }

    private static long Round(double ns) => (long)Math.Round(ns);
}
