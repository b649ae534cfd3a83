using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Policies.Sarathi;

/// <param name="TokenBudget">Tokens per pass, chosen in Sarathi-Serve for the time-between-tokens target.</param>
public sealed record SarathiOptions(
    [Description("tokens per pass")][Range(1, 10_000_000)] int TokenBudget = 512,
    [Description("most requests running at once")][Range(1, 1_000_000)] int MaxNumSeqs = 256,
    [Description("share of KV blocks kept free at admission")][Range(0.0, 0.5)] double WatermarkFraction = 0.01);
