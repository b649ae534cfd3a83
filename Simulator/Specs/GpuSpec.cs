using System.ComponentModel.DataAnnotations;

namespace Simulator.Specs;

/// <summary>
/// One GPU (configs/hardware/gpus/). Bandwidths and FLOP/s are achievable figures, not
/// datasheet peaks; RealRunner calibration replaces them with measured ones.
/// </summary>
/// <param name="PerBlockBandwidthGbPerS">HBM bandwidth one attention thread block can pull on its own: bounds how fast the longest request's attention can finish.</param>
/// <param name="MaxResidentBlocksPerSm">Attention thread blocks an SM runs at once.</param>
/// <param name="SharedMemoryPerSmKib">Shared memory an SM offers its blocks (CUDA programming guide): bounds vLLM v1's residency.</param>
/// <param name="AttentionKernels">Per-family decode-attention rates fitted to published kernel times.</param>
/// <param name="Gemm">Measured GEMM rates for the dense layers and the LM head (null: the roofline on hbm_bandwidth and dense_tflops).</param>
/// <param name="PrefillAttention">Measured prefill-attention rates (null: causal FLOPs at dense_tflops).</param>
public sealed record GpuSpec(
    string Name,
    [Range(1, 10_000)] int SmCount,
    [Range(0.001, 100_000.0)] double HbmCapacityGib,
    [Range(1e-3, 1_000_000.0)] double HbmBandwidthGbPerS,
    [Range(1e-6, 1_000_000.0)] double DenseTflops,
    [Range(1e-6, 1_000_000.0)] double PerBlockBandwidthGbPerS,
    [Range(1, 64)] int MaxResidentBlocksPerSm,
    [Range(0.0, 1_000_000.0)] double KernelLaunchUs,
    [Range(1, 64)] int CopyEngines,
    [Range(0, 100_000)] int SharedMemoryPerSmKib = 0,
    AttentionKernelRates? AttentionKernels = null,
    GemmRates? Gemm = null,
    PrefillAttentionRates? PrefillAttention = null)
{
    public long HbmCapacityBytes => (long)(HbmCapacityGib * Units.GiB);

    public double HbmBytesPerNs => HbmBandwidthGbPerS;

    public double PerBlockBytesPerNs => PerBlockBandwidthGbPerS;

    public double FlopsPerNs => DenseTflops * 1000;

    public int ResidentBlockSlots => SmCount * MaxResidentBlocksPerSm;
}
