namespace Simulator.CostModel;

/// <summary>
/// Predicted time of one forward pass, in nanoseconds, summed over layers.
/// <see cref="DurationNs"/> = dense + decode attention + prefill attention + overhead.
/// <see cref="BubbleNs"/> is the part of decode attention lost to imbalance: its makespan
/// minus the time the same bytes would take spread perfectly over the GPU.
/// </summary>
public readonly record struct IterationCost(
    long DurationNs,
    long DenseNs,
    long DecodeAttentionNs,
    long PrefillAttentionNs,
    long OverheadNs,
    long BubbleNs);
