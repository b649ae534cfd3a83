namespace Simulator.Workload;

/// <summary>One request of a workload: when it arrives and how long it is.</summary>
/// <remarks>
/// Invariant (checked at load): <see cref="TotalTokens"/> is at most <see cref="MaxTokens"/> and
/// <see cref="ArrivalNs"/> at most <see cref="Specs.Units.MaxTimeS"/> seconds, so that sums of a request's
/// lengths and the KV of a batch stay far from integer limits everywhere downstream.
/// </remarks>
public readonly record struct RequestSpec(int Id, long ArrivalNs, int PromptTokens, int OutputTokens)
{
    /// <summary>The longest request (prompt + output) accepted: the longest context a model spec may declare.</summary>
    public const int MaxTokens = 10_000_000;

    public long TotalTokens => (long)PromptTokens + OutputTokens;
}
