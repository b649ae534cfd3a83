using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Policies.Orca;

/// <param name="MaxBatchSize">Most requests running at once.</param>
/// <param name="MaxNumBatchedTokens">Token budget of one pass (new prompts are admitted whole within it).</param>
/// <param name="MaxSequenceTokens">KV reserved per request at admission: this many tokens, or the request's own maximum if larger (Orca reserves for the model's maximum length, not knowing the output length).</param>
public sealed record OrcaOptions(
    [Description("most requests running at once")][Range(1, 1_000_000)] int MaxBatchSize = 256,
    [Description("token budget of one pass")][Range(1, 10_000_000)] int MaxNumBatchedTokens = 8192,
    [Description("KV tokens reserved per request at admission")][Range(1, 10_000_000)] int MaxSequenceTokens = 2048);
