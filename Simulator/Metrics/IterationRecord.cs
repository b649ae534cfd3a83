namespace Simulator.Metrics;

/// <summary>One forward pass as the metrics see it. Times in nanoseconds.</summary>
public readonly record struct IterationRecord(
    int Index,
    long StartNs,
    long DurationNs,
    int Seqs,
    int PrefillSeqs,
    int NewTokens,
    long KvTokensSum,
    int KvTokensMax,
    long DenseNs,
    long DecodeAttentionNs,
    long PrefillAttentionNs,
    long BubbleNs,
    int KvBlocksUsed,
    int Waiting,
    int Preempted);
