using System.ComponentModel.DataAnnotations;
using Simulator.Config;
using Simulator.CostModel;
using Simulator.Specs;

namespace Simulator.Studies;

/// <summary>
/// <c>study: iteration_latency</c>: the cost of one decode iteration of a fixed batch as the
/// share of long requests in it grows (AlignedServe's motivation: a few long requests make
/// the whole iteration wait on them).
/// </summary>
/// <param name="BatchSize">Requests in the decode batch.</param>
/// <param name="ShortTokens">KV length of a short request.</param>
/// <param name="LongTokens">KV length of a long request.</param>
/// <param name="LongShares">Shares of long requests to evaluate (each rounded to a whole number of requests).</param>
/// <param name="Kernels">Attention kernel variants to compare.</param>
/// <param name="LongPlacement">Where the long requests sit in the batch's launch order.</param>
public sealed record IterationLatencyConfig(
    string Name,
    [Catalog("models")] ModelSpec Model,
    [Catalog("hardware/nodes")] NodeSpec Node,
    [Range(1, 100_000)] int BatchSize,
    [Range(1, 10_000_000)] int ShortTokens,
    [Range(1, 10_000_000)] int LongTokens,
    IReadOnlyList<double> LongShares,
    IReadOnlyList<AttentionKernel> Kernels,
    CostModelConfig CostModel,
    LongPlacement LongPlacement = LongPlacement.Spread) : IValidatedConfig
{
    public IEnumerable<(string Field, string Problem)> Validate()
    {
        if (ExperimentConfig.ProblemWithName(Name) is { } problem) yield return ("name", problem);
        if (LongShares.Count == 0 || LongShares.Any(s => s is < 0 or > 1))
            yield return ("long_shares", "expected a non-empty list of shares between 0 and 1");
        if (Kernels.Count == 0) yield return ("kernels", "expected at least one kernel (per_head, split_kv)");
    }
}

public enum LongPlacement
{
    /// <summary>Long requests evenly spaced through the batch.</summary>
    Spread,

    /// <summary>Long requests launched first.</summary>
    First,

    /// <summary>Long requests launched last (arrived last, FCFS order).</summary>
    Last,
}
