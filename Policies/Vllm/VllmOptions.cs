using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace Policies.Vllm;

/// <summary>Options of the <c>vllm</c> policy (names follow vLLM's scheduler config).</summary>
/// <param name="MaxNumSeqs">Most requests running on the GPU at once.</param>
/// <param name="MaxNumBatchedTokens">Token budget of one forward pass.</param>
/// <param name="ChunkedPrefill">Mix decodes with prefill chunks under the token budget (vLLM v1); otherwise prefill-first iterations (vLLM v0).</param>
/// <param name="WatermarkFraction">Share of KV blocks kept free when admitting a new request, to avoid immediate preemption.</param>
/// <param name="Preemption">recompute: drop the victim's KV and prefill it again; swap: copy it to host memory and back.</param>
public sealed record VllmOptions(
    [Description("most requests running at once")]
    [Range(1, 1_000_000)] int MaxNumSeqs = 256,
    [Description("token budget of one forward pass")]
    [Range(1, 10_000_000)] int MaxNumBatchedTokens = 8192,
    [Description("mix decodes and prefill chunks in one pass")]
    bool ChunkedPrefill = false,
    [Description("share of KV blocks kept free at admission")]
    [Range(0.0, 0.5)] double WatermarkFraction = 0.01,
    [Description("how a victim loses its KV")] Preemption Preemption = Preemption.Recompute);

/// <summary>How a preempted request gives up its KV blocks (vLLM's preemption modes).</summary>
public enum Preemption
{
    Recompute,
    Swap,
}
