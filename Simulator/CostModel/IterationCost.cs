namespace Simulator.CostModel;

/// <summary>
/// Predicted time of one forward pass, in nanoseconds, summed over layers.
/// <see cref="DurationNs"/> = dense + decode attention + prefill attention + overhead + host wait.
/// <see cref="BubbleNs"/> is the part of decode attention lost to imbalance: its makespan
/// minus the time the same bytes would take spread perfectly over the GPU. <see cref="HostNs"/> is the engine's
/// host time the GPU waited for (all of it when serialised, the excess over the GPU's time when overlapped).
/// </summary>
public readonly record struct IterationCost(
    long DurationNs,
    long DenseNs,
    long DecodeAttentionNs,
    long PrefillAttentionNs,
    long OverheadNs,
    long BubbleNs,
    long HostNs = 0);
