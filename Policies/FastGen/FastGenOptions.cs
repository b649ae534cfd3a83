using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Policies.FastGen;

/// <param name="TokenBudget">Tokens every forward pass aims for.</param>
public sealed record FastGenOptions(
    [Description("tokens per forward pass")][Range(1, 10_000_000)] int TokenBudget = 2048,
    [Description("most requests running at once")][Range(1, 1_000_000)] int MaxNumSeqs = 256,
    [Description("share of KV blocks kept free at admission")][Range(0.0, 0.5)] double WatermarkFraction = 0.01);
