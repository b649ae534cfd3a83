namespace RealRunner.Kernels;

/// <summary>
/// Where a KV element lives in a paged KV store. A block holds <see cref="BlockSize"/> tokens of
/// every layer's K and V, laid out [layer][K or V][kv head][slot][dim], so one block is one
/// contiguous run of <see cref="BlockElements"/> fp16 values (one copy moves it whole).
/// </summary>
public readonly struct KvLayout
{
    public KvLayout(int layers, int kvHeads, int headDim, int blockSize)
    {
        Layers = layers;
        KvHeads = kvHeads;
        HeadDim = headDim;
        BlockSize = blockSize;
    }

    public int Layers { get; }

    public int KvHeads { get; }

    public int HeadDim { get; }

    public int BlockSize { get; }

    /// <summary>fp16 values per block.</summary>
    public long BlockElements => (long)Layers * 2 * KvHeads * BlockSize * HeadDim;

    /// <summary>Index of element (slot, dim 0) of K (<paramref name="kOrV"/> 0) or V (1) in a block.</summary>
    public long Offset(int block, int layer, int kOrV, int kvHead, int slot) =>
        block * BlockElements + (((long)layer * 2 + kOrV) * KvHeads + kvHead) * BlockSize * HeadDim + (long)slot * HeadDim;
}

/// <summary>
/// A batch's attention rows, as the kernels see them: row r is one query token of sequence
/// <c>rowSeq[r]</c> at position <c>rowPos[r]</c>, attending to that sequence's tokens
/// 0..rowPos[r] (causal). A decode row is a request's newest token; a prefill chunk has a row
/// per prompt token. <c>tables</c> holds each sequence's block ids, <see cref="MaxBlocksPerSeq"/> per row.
/// </summary>
public readonly struct AttentionArgs
{
    public AttentionArgs(KvLayout kv, int heads, int layer, int maxBlocksPerSeq, int qStride, int outStride, int partitionTokens, int partitions)
    {
        Kv = kv;
        Heads = heads;
        Layer = layer;
        MaxBlocksPerSeq = maxBlocksPerSeq;
        QStride = qStride;
        OutStride = outStride;
        PartitionTokens = partitionTokens;
        Partitions = partitions;
        Scale = 1f / MathF.Sqrt(kv.HeadDim);
    }

    public KvLayout Kv { get; }

    public int Heads { get; }

    public int Layer { get; }

    public int MaxBlocksPerSeq { get; }

    /// <summary>Floats per row of the query buffer (the QKV projection's output: (heads + 2 kv heads) x head_dim).</summary>
    public int QStride { get; }

    /// <summary>Floats per row of the output (heads x head_dim).</summary>
    public int OutStride { get; }

    /// <summary>Tokens per KV partition (split-KV); the whole context when <see cref="Partitions"/> is 1.</summary>
    public int PartitionTokens { get; }

    public int Partitions { get; }

    public float Scale { get; }

    public int GroupSize => Heads / Kv.KvHeads;

    /// <summary>The physical block holding token <paramref name="position"/> of sequence <paramref name="seq"/>.</summary>
    public int Block(ILGPU.ArrayView<int> tables, int seq, int position) =>
        tables[(long)seq * MaxBlocksPerSeq + position / Kv.BlockSize];
}
