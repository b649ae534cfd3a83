using Simulator.Config;
using Simulator.Specs;

namespace Simulator.CostModel;

/// <summary>
/// One decode-attention launch as its kernel family builds it (DESIGN section 5, "kernel families"): how many
/// blocks each request gets per split, how many tokens a split holds, the bytes a block streams per token, how
/// many blocks run at once, how fast one block and all of them stream, and the launch's fixed time.
/// <see cref="AttentionMakespan"/> turns it and the batch's own KV lengths into a time.
/// <para>Bandwidth is counted in the bytes blocks stream: a family with one block per query head streams each
/// KV head once per query head of its group, but the group's blocks run side by side and L2 serves the repeats,
/// so HBM sees each KV byte once (vLLM v1 on A100 at batch 4 with 8 query heads per KV head runs in 69 us,
/// PR #2744: its block bytes at the HBM rate alone would take 90 us). Their aggregate rate is therefore
/// group size x the HBM rate, capped by blocks x the per-block rate.</para>
/// </summary>
/// <param name="LongestLimitTokens">The launch keeps this shape while the longest request holds at most this many tokens
/// (vLLM v1's residency band and its v1/v2 rule change above it); int.MaxValue when the shape does not depend on it.</param>
/// <param name="Balanced">A plan that deals chunks longest-first to a fixed grid (FlashInfer): no launch-order waves.</param>
public readonly record struct AttentionLaunch(
    AttentionKernel Kernel,
    int HeadsPerRequest,
    int PartitionTokens,
    double BytesPerToken,
    double Bandwidth,
    double PerBlock,
    int Slots,
    double FixedNs,
    bool Balanced,
    int LongestLimitTokens)
{
    /// <summary>vLLM v0's partition for v2 (<c>_PARTITION_SIZE</c> in vllm/attention/ops/paged_attn.py).</summary>
    public const int PagedPartitionTokens = 512;

    /// <summary>vLLM v0 uses v1 while the longest context is at most this (paged_attn.py).</summary>
    public const int PagedV1MaxTokens = 8192;

    /// <summary>FlashAttention-2's split-KV key block (flash_api.cpp, set_params_splitkv): 256 up to head_dim 64, 128 up to 128, else 64.</summary>
    private static int Fa2BlockN(int headDim) => headDim <= 64 ? 256 : headDim <= 128 ? 128 : 64;

    /// <summary>
    /// The most splits FlashAttention-2 considers (flash_api.cpp passes 128). Its SM count is the device's (the 2.4 releases the
    /// reference rows measured); later releases pass twice the SMs, which this model does not follow.
    /// </summary>
    private const int Fa2MaxSplits = 128;

    public bool OneBlockPerHead => PartitionTokens == int.MaxValue;

    /// <summary>
    /// The launch <paramref name="kernel"/> (resolved: not auto) makes for <paramref name="requests"/> decode requests whose
    /// longest KV is <paramref name="longestTokens"/> and whose KV tokens sum to <paramref name="totalTokens"/>.
    /// </summary>
    /// <param name="lengths">Every request's KV length, where the plan reads them (FlashInfer's split search); empty: a plan that
    /// could split is taken to split.</param>
    /// <param name="withLimit">Work out <see cref="LongestLimitTokens"/> where it costs a search (standing batches need it; a priced pass does not).</param>
    public static AttentionLaunch Plan(AttentionKernel kernel, ModelSpec model, GpuSpec gpu, CostModelConfig config,
        int requests, int longestTokens, long totalTokens, ReadOnlySpan<int> lengths = default, bool withLimit = false)
    {
        var hbm = gpu.HbmBytesPerNs;
        var bytes = (double)model.KvHeadBytesPerToken;
        var group = model.Heads / model.KvHeads;
        var split = config.AttentionSplit == AttentionSplit.Auto;
        switch (kernel)
        {
            case AttentionKernel.PerHead:
                return new(kernel, model.KvHeads, int.MaxValue, bytes, hbm, gpu.PerBlockBytesPerNs, gpu.ResidentBlockSlots, 0, false, int.MaxValue);
            case AttentionKernel.PagedV1:
            {
                var rates = RatesOf(gpu, kernel);
                var (resident, limit) = PagedV1Residency(gpu, rates, longestTokens);
                return new(kernel, model.Heads, int.MaxValue, bytes, group * hbm, rates.PerBlockGbPerS, gpu.SmCount * resident,
                    rates.LaunchUs * Units.NsPerMicrosecond, false, Math.Max(limit, longestTokens));
            }
            case AttentionKernel.PagedV2:
            {
                var rates = RatesOf(gpu, kernel);
                return new(kernel, model.Heads, split ? PagedPartitionTokens : int.MaxValue, bytes, group * hbm, rates.PerBlockGbPerS,
                    gpu.SmCount * rates.ResidentBlocksPerSm, (rates.LaunchUs + (split ? rates.ReductionUs : 0)) * Units.NsPerMicrosecond,
                    false, int.MaxValue);
            }
            case AttentionKernel.Fa2:
            {
                var rates = RatesOf(gpu, kernel);
                // FlashAttention 2.4+: decode with GQA moves the query heads of a group into one block (seqlenq_ngroups_swapped).
                var packed = config.AttentionGqaPacking;
                var heads = packed ? model.KvHeads : model.Heads;
                var blockN = Fa2BlockN(model.HeadDim);
                var nBlocks = (int)Math.Min(int.MaxValue, (longestTokens + (long)blockN - 1) / blockN);
                var splits = split ? Fa2Splits(requests * heads, gpu.SmCount, nBlocks, Fa2MaxSplits) : 1;
                var partition = splits > 1 ? (nBlocks + splits - 1) / splits * blockN : int.MaxValue;
                // A standing batch keeps the launch while the heuristic does: one split, or splits of the same partition.
                var limit = !split || !withLimit ? int.MaxValue
                    : splits == 1 ? Fa2SameSplitLimit(requests * heads, gpu.SmCount, nBlocks, blockN)
                    : Fa2SamePartitionLimit(requests * heads, gpu.SmCount, nBlocks, blockN, partition);
                return new(kernel, heads, partition, bytes, (packed ? 1 : group) * hbm, rates.PerBlockGbPerS,
                    gpu.SmCount * rates.ResidentBlocksPerSm, (rates.LaunchUs + (splits > 1 ? rates.ReductionUs : 0)) * Units.NsPerMicrosecond,
                    false, limit);
            }
            case AttentionKernel.SplitKv:
            {
                var rates = RatesOrNull(gpu, kernel);
                var (partition, limit) = !split ? (int.MaxValue, int.MaxValue)
                    : config.SplitKvPartitionTokens is { } configured ? (configured, int.MaxValue)
                    : rates is null ? (GenericSplitTokens, int.MaxValue)
                    : FillingPartition(gpu, requests * model.KvHeads, longestTokens);
                return rates is null
                    ? new(kernel, model.KvHeads, partition, bytes, hbm, gpu.PerBlockBytesPerNs, gpu.ResidentBlockSlots, 0, false, limit)
                    : new(kernel, model.KvHeads, partition, bytes, hbm, rates.PerBlockGbPerS, gpu.SmCount * rates.ResidentBlocksPerSm,
                        (rates.LaunchUs + (split ? rates.ReductionUs : 0)) * Units.NsPerMicrosecond, false, limit);
            }
            case AttentionKernel.Flashinfer:
            {
                var rates = RatesOf(gpu, kernel);
                var grid = (long)gpu.SmCount * rates.ResidentBlocksPerSm;
                // FlashInfer's decode plan (include/flashinfer/attention/scheduler.cuh): no split once batch x KV heads fills the
                // grid; else the fewest pages per chunk (at least 128 tokens) whose chunks x heads fit the grid, a split only if
                // some request then takes more than one chunk. Without the lengths a plan that could split is taken to split.
                var chunk = !split || (long)requests * model.KvHeads >= grid ? int.MaxValue
                    : lengths.IsEmpty ? FlashinferMinChunkTokens : FlashinferChunkTokens(lengths, model.KvHeads, grid);
                var splits = chunk != int.MaxValue && (lengths.IsEmpty || longestTokens > chunk);
                return new(kernel, model.KvHeads, splits ? chunk : int.MaxValue, bytes, hbm, rates.PerBlockGbPerS, (int)grid,
                    (rates.LaunchUs + (splits ? rates.ReductionUs : 0)) * Units.NsPerMicrosecond, splits, int.MaxValue);
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(kernel), kernel, "resolve auto before planning a launch");
        }
    }

    /// <summary>The generic split-KV kernel's partition (RealRunner's kernel) when none is configured.</summary>
    public const int GenericSplitTokens = 512;

    /// <summary>
    /// Flash-Decoding's aim (PyTorch blog "Flash-Decoding for long-context inference"): split the KV so the launch fills the GPU
    /// even at batch 1. Modelled as about two blocks per SM: ceil(2 SMs / (requests x KV heads)) splits of the longest request,
    /// each a multiple of 128 tokens (FlashAttention's key block); one split once the heads alone fill the GPU.
    /// Also the longest KV up to which the partition stays: splits x partition (a longer one needs a larger multiple of 128).
    /// </summary>
    private static (int PartitionTokens, int LimitTokens) FillingPartition(GpuSpec gpu, long heads, int longestTokens)
    {
        var splits = Math.Max(1, (2L * gpu.SmCount + heads - 1) / heads);
        var perSplit = (longestTokens + splits - 1) / splits;
        var partition = (int)Math.Min(int.MaxValue, Math.Max(128, (perSplit + 127) / 128 * 128));
        return (partition, (int)Math.Clamp(splits * partition, longestTokens, int.MaxValue));
    }

    /// <summary>The longest KV up to which vLLM's rule keeps choosing v1 for this many requests: 8,192, or one partition when seqs * heads &lt;= 512.</summary>
    public static int VllmV1LimitTokens(int requests, int heads) => (long)requests * heads > 512 ? PagedV1MaxTokens : PagedPartitionTokens;

    /// <summary>vLLM v0's rule (paged_attn.py): <c>use_v1 = max_seq_len &lt;= 8192 and (max_num_partitions == 1 or num_seqs * num_heads &gt; 512)</c>.</summary>
    public static AttentionKernel VllmChoice(int requests, int heads, int longestTokens)
    {
        var partitions = (longestTokens + PagedPartitionTokens - 1) / PagedPartitionTokens;
        return longestTokens <= PagedV1MaxTokens && (partitions <= 1 || (long)requests * heads > 512) ? AttentionKernel.PagedV1 : AttentionKernel.PagedV2;
    }

    /// <summary>
    /// v1's dynamic shared memory is the longest context padded to the 16-token KV block, times 4 bytes (one float logit
    /// per token; attention_kernels.cu), so an SM holds fewer blocks as the longest request grows. Returns the blocks per
    /// SM and the longest length up to which they stay so.
    /// </summary>
    private static (int Resident, int LimitTokens) PagedV1Residency(GpuSpec gpu, KernelRates rates, int longestTokens)
    {
        if (gpu.SharedMemoryPerSmKib == 0) return (rates.ResidentBlocksPerSm, int.MaxValue);
        long smem = gpu.SharedMemoryPerSmKib * 1024L;
        long padded = Math.Max(16, (longestTokens + 15L) / 16 * 16);
        var resident = (int)Math.Clamp(smem / (padded * 4), 1, rates.ResidentBlocksPerSm);
        // The largest padded length that still fits `resident` blocks: smem / (resident * 4), down to a multiple of 16.
        var limit = smem / (resident * 4L) / 16 * 16;
        return (resident, (int)Math.Min(int.MaxValue, limit));
    }

    /// <summary>FlashInfer's page: vLLM's 16-token KV block, as in the published rows.</summary>
    private const int FlashinferPageTokens = 16;

    /// <summary>The plan's floor on a chunk: max(128 / page_size, 1) pages (scheduler.cuh).</summary>
    private const int FlashinferMinChunkTokens = 128;

    /// <summary>FlashInfer's binary search (PartitionPagedKVCacheBinarySearchMinNumPagePerBatch): the fewest pages per chunk, from the floor, whose chunks x heads fit the grid.</summary>
    private static int FlashinferChunkTokens(ReadOnlySpan<int> lengths, int heads, long grid)
    {
        long low = FlashinferMinChunkTokens / FlashinferPageTokens, high = 0;
        foreach (var length in lengths) high = Math.Max(high, PagesOf(length));
        while (low < high)
        {
            var mid = (low + high) / 2;
            long chunks = 0;
            foreach (var length in lengths) chunks += (PagesOf(length) + mid - 1) / mid;
            if (chunks * heads > grid) low = mid + 1;
            else high = mid;
        }
        return (int)Math.Min(int.MaxValue, low * FlashinferPageTokens);

        static long PagesOf(int tokens) => Math.Max(1, (tokens + (long)FlashinferPageTokens - 1) / FlashinferPageTokens);
    }

    /// <summary>The longest KV (in tokens) up to which FlashAttention-2's heuristic keeps one split.</summary>
    private static int Fa2SameSplitLimit(long blocks, int sms, int nBlocks, int blockN)
    {
        if (blocks >= 0.8 * sms) return int.MaxValue;
        var n = nBlocks;
        // A standing batch ends at the limit and may start again, so a bounded search is enough.
        while (n < nBlocks + 256 && Fa2Splits(blocks, sms, n + 1, Fa2MaxSplits) == 1) n++;
        return (int)Math.Min(int.MaxValue, (long)n * blockN);
    }

    /// <summary>
    /// The longest KV (in tokens) up to which FlashAttention-2's heuristic keeps splitting into partitions of <paramref name="partition"/>
    /// tokens (the split count may change if the partition does not: the launch is the same).
    /// </summary>
    private static int Fa2SamePartitionLimit(long blocks, int sms, int nBlocks, int blockN, int partition)
    {
        var n = nBlocks;
        // A standing batch ends at the limit and may start again, so a bounded search is enough.
        while (n < nBlocks + 256 && Fa2Splits(blocks, sms, n + 1, Fa2MaxSplits) is var s && s > 1 && (n + s) / s * blockN == partition) n++;
        return (int)Math.Min(int.MaxValue, (long)n * blockN);
    }

    /// <summary>
    /// FlashAttention-2's split count (flash_api.cpp, num_splits_heuristic): none once the blocks nearly fill the SMs; else the
    /// fewest eligible splits whose wave efficiency is within 85% of the best.
    /// </summary>
    public static int Fa2Splits(long blocks, int sms, int nBlocks, int maxSplits)
    {
        if (blocks >= 0.8 * sms) return 1;
        maxSplits = Math.Min(maxSplits, Math.Min(sms, nBlocks));
        Span<double> efficiency = stackalloc double[Math.Max(1, maxSplits)];
        double best = 0;
        for (var s = 1; s <= maxSplits; s++)
        {
            efficiency[s - 1] = Eligible(s) ? WaveEfficiency(s) : 0;
            best = Math.Max(best, efficiency[s - 1]);
        }
        for (var s = 1; s <= maxSplits; s++)
            if (Eligible(s) && efficiency[s - 1] >= 0.85 * best) return s;
        return 1;

        bool Eligible(int s) => s == 1 || CeilDiv(nBlocks, s) != CeilDiv(nBlocks, s - 1);
        double WaveEfficiency(int s)
        {
            var waves = (double)(blocks * s) / sms;
            return waves / Math.Ceiling(waves);
        }
        static int CeilDiv(int a, int b) => (a + b - 1) / b;
    }

    /// <summary>The rates a published family runs at on a GPU, or null (the GPU has none, or the kernel is generic).</summary>
    public static KernelRates? RatesOrNull(GpuSpec gpu, AttentionKernel kernel) => kernel switch
    {
        AttentionKernel.PagedV1 or AttentionKernel.PagedV2 => gpu.AttentionKernels?.Paged,
        AttentionKernel.Fa2 => gpu.AttentionKernels?.Fa2,
        AttentionKernel.SplitKv => gpu.AttentionKernels?.SplitKv,
        AttentionKernel.Flashinfer => gpu.AttentionKernels?.Flashinfer,
        _ => null,
    };

    private static KernelRates RatesOf(GpuSpec gpu, AttentionKernel kernel) => RatesOrNull(gpu, kernel)
        ?? throw new ConfigException(null, "cost_model.attention_kernel", $"gpu '{gpu.Name}' has no attention_kernels rates for '{ConfigNames.EnumName(kernel)}'; add them to its catalog entry "
                                    + "or choose cost_model.attention_kernel: per_head");

    /// <summary>Whether <paramref name="gpu"/> has the rates <paramref name="kernel"/> needs (the generic kernels need none).</summary>
    public static bool HasRates(GpuSpec gpu, AttentionKernel kernel) =>
        kernel is AttentionKernel.PerHead or AttentionKernel.SplitKv || RatesOrNull(gpu, kernel) is not null;
}
