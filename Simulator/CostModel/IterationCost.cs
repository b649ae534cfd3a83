namespace Simulator.CostModel;

/// <summary>
/// Predicted time of one forward pass, in nanoseconds, summed over layers.
/// <see cref="BubbleNs"/> is the part of decode attention lost to imbalance: its makespan
/// minus the time the same bytes would take spread perfectly over the GPU. <see cref="HostNs"/> is the engine's
/// host time the GPU waited for (all of it when serialised, the excess over the GPU's time when overlapped).
/// <see cref="CollectiveNs"/> is a tensor-parallel instance's all-reduces and gathers (0 on one GPU), part of <see cref="OverheadNs"/>'s
/// sibling terms: DurationNs = dense + decode attention + prefill attention + overhead + collectives + host wait.
/// </summary>
public readonly record struct IterationCost(
    long DurationNs,
    long DenseNs,
    long DecodeAttentionNs,
    long PrefillAttentionNs,
    long OverheadNs,
    long BubbleNs,
    long HostNs = 0,
    long CollectiveNs = 0);
