using System.ComponentModel.DataAnnotations;
using Simulator.Config;

namespace Simulator.Specs;

/// <summary>Feed-forward shape: two matrices (OPT's GELU MLP) or three (Llama's SwiGLU).</summary>
public enum FfnKind
{
    Gelu,
    Swiglu,
}

/// <summary>
/// A decoder-only transformer's architecture (configs/models/). Derived sizes are
/// properties; layer norms and biases are left out of parameter counts (under 0.1%).
/// </summary>
public sealed record ModelSpec(
    string Name,
    [Range(1, 1000)] int Layers,
    [Range(1, 1_000_000)] int Hidden,
    [Range(1, 4096)] int Heads,
    [Range(1, 4096)] int KvHeads,
    [Range(1, 4096)] int HeadDim,
    [Range(1, 10_000_000)] int Ffn,
    [Range(1, 10_000_000)] int Vocab,
    FfnKind FfnKind,
    [Range(1, 10_000_000)] int MaxPositionTokens,
    bool TiedEmbeddings,
    [Range(1, 8)] int DtypeBytes = 2) : IValidatedConfig
{
    /// <summary>KV bytes per token over all layers: 2 (K and V) * layers * kv_heads * head_dim * dtype.</summary>
    public long KvBytesPerToken => Layers * KvHeads * KvHeadBytesPerToken;

    /// <summary>Bytes one KV head adds per token in one layer, K and V together.</summary>
    public long KvHeadBytesPerToken => 2L * HeadDim * DtypeBytes;

    public long AttentionParamsPerLayer =>
        (long)Hidden * Heads * HeadDim * 2 + 2L * Hidden * KvHeads * HeadDim;

    public long FfnParamsPerLayer => (FfnKind == FfnKind.Gelu ? 2L : 3L) * Hidden * Ffn;

    public long ParamsPerLayer => AttentionParamsPerLayer + FfnParamsPerLayer;

    /// <summary>Token embedding plus the LM head (one matrix when tied).</summary>
    public long EmbeddingParams => (TiedEmbeddings ? 1L : 2L) * Vocab * Hidden;

    public long TotalParams => Layers * ParamsPerLayer + EmbeddingParams;

    public long WeightBytes => TotalParams * DtypeBytes;

    public long LayerWeightBytes => ParamsPerLayer * DtypeBytes;

    public long LmHeadWeightBytes => (long)Vocab * Hidden * DtypeBytes;

    /// <summary>
    /// Why the model cannot be split over <paramref name="tp"/> GPUs Megatron-style (vLLM's rules), or null: query heads and the
    /// MLP's intermediate size divide by tp; KV heads divide by tp, or tp by the KV heads (each GPU then holds a replica of one).
    /// </summary>
    public string? ShardingProblem(int tp)
    {
        if (tp == 1) return null;
        if (Heads % tp != 0) return $"{Name}'s {Heads} attention heads do not split over {tp} GPUs (heads must be a multiple of tp)";
        if (KvHeads >= tp ? KvHeads % tp != 0 : tp % KvHeads != 0)
            return $"{Name}'s {KvHeads} KV heads do not split over {tp} GPUs (kv_heads must be a multiple of tp, or tp a multiple of kv_heads to replicate them)";
        if (Ffn % tp != 0) return $"{Name}'s MLP ({Ffn} intermediate units) does not split over {tp} GPUs (ffn must be a multiple of tp)";
        return null;
    }

    /// <summary>
    /// What one of <paramref name="tp"/> GPUs holds and computes in a tensor-parallel instance (Megatron-LM's split, as vLLM runs
    /// it): its share of query heads, KV heads (one replicated head each when tp exceeds them), MLP units and vocabulary (the
    /// embedding and LM head are vocabulary-parallel; vLLM pads the vocabulary to a multiple of tp). The hidden size is whole:
    /// norms and residuals run on every GPU. tp 1 is the model itself.
    /// </summary>
    public ModelSpec Shard(int tp)
    {
        if (tp == 1) return this;
        if (ShardingProblem(tp) is { } problem) throw new InvalidOperationException(problem);
        return this with { Heads = Heads / tp, KvHeads = Math.Max(1, KvHeads / tp), Ffn = Ffn / tp, Vocab = (Vocab + tp - 1) / tp };
    }

    public IEnumerable<(string Field, string Problem)> Validate()
    {
        if (Heads % KvHeads != 0)
            yield return ("kv_heads", $"heads ({Heads}) must be a multiple of kv_heads ({KvHeads})");
    }
}
