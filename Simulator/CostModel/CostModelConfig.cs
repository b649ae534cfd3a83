using System.ComponentModel.DataAnnotations;

namespace Simulator.CostModel;

/// <summary>How decode attention is split into thread blocks.</summary>
public enum AttentionKernel
{
    /// <summary>One block per (request, kv head), as vLLM's paged attention v1.</summary>
    PerHead,

    /// <summary>Also one block per KV partition (FlashDecoding-style split-KV), plus a reduction.</summary>
    SplitKv,
}

/// <summary>How the decode-attention makespan is computed.</summary>
public enum AttentionMode
{
    /// <summary>The O(requests) closed form with launch-order wave effects (fast; the default).</summary>
    ClosedForm,

    /// <summary>The fluid schedule of every thread block over the SMs (slower; the reference the closed form is tested against).</summary>
    Exact,
}

/// <param name="KernelsPerLayer">Kernels one layer launches; each costs the GPU's kernel_launch_us (launch, ramp-up and tail).</param>
/// <param name="IterationOverheadUs">Fixed host-side cost per forward pass (scheduling, sampling, output processing).</param>
/// <param name="Calibration">A calibration file from RealRunner's profile; its fitted GPU parameters replace the catalog's.</param>
public sealed record CostModelConfig(
    AttentionKernel AttentionKernel = AttentionKernel.PerHead,
    AttentionMode AttentionMode = AttentionMode.ClosedForm,
    [Range(1, 1 << 24)] int SplitKvPartitionTokens = 512,
    [Range(0, 1000)] int KernelsPerLayer = 6,
    [Range(0.0, 1e7)] double IterationOverheadUs = 0,
    [Config.FilePath] string? Calibration = null);
