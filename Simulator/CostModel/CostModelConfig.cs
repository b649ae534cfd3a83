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

/// <summary>Which KV lengths decode attention is priced from.</summary>
public enum AttentionLengths
{
    /// <summary>Every request's own KV length (the model's point: a long request makes the batch wait).</summary>
    Own,

    /// <summary>Every request at the batch's mean KV length, as batch-mean simulators (Vidur) do; for comparison.</summary>
    Mean,
}

/// <param name="AttentionLengths">own (each request's KV length) or mean (the batch mean, as Vidur; blind to a long outlier).</param>
/// <param name="KernelsPerLayer">Kernels one layer launches; each costs the GPU's kernel_launch_us (launch, ramp-up and tail).</param>
/// <param name="IterationOverheadUs">Fixed host-side cost per forward pass (scheduling, sampling, output processing).</param>
/// <param name="Calibration">A calibration file from RealRunner's profile: its fitted GPU parameters replace the catalog's, and its tables correct the closed form inside their range.</param>
public sealed record CostModelConfig(
    AttentionKernel AttentionKernel = AttentionKernel.PerHead,
    AttentionMode AttentionMode = AttentionMode.ClosedForm,
    [Range(1, 1 << 24)] int SplitKvPartitionTokens = 512,
    [Range(0, 1000)] int KernelsPerLayer = 6,
    [Range(0.0, 1e7)] double IterationOverheadUs = 0,
    [Config.FilePath] string? Calibration = null,
    AttentionLengths AttentionLengths = AttentionLengths.Own);
