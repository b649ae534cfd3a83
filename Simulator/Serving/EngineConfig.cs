using System.ComponentModel.DataAnnotations;

namespace Simulator.Serving;

/// <param name="BlockSizeTokens">Tokens per paged KV block (vLLM's default is 16).</param>
/// <param name="GpuMemoryUtilization">Share of HBM the server may use (vLLM's gpu_memory_utilization).</param>
/// <param name="ActivationReserveGib">HBM kept for activations and workspace before KV blocks are carved out.</param>
/// <param name="KvBlocks">KV blocks per GPU, fixed instead of carved out of HBM (RealRunner sets it to what its device holds, so a simulator replay uses the same memory).</param>
/// <param name="LazyDecode">Run repeated decode batches as standing batches (lazy per-request state, O(1) work per pass; the same
/// results, tested byte for byte). Off: every pass is formed, priced and applied request by request (the reference).</param>
public sealed record EngineConfig(
    [Range(1, 65536)] int BlockSizeTokens = 16,
    [Range(0.01, 1.0)] double GpuMemoryUtilization = 0.9,
    [Range(0.0, 100_000.0)] double ActivationReserveGib = 2.0,
    [Range(1, int.MaxValue)] int? KvBlocks = null,
    bool LazyDecode = true);
