using System.ComponentModel.DataAnnotations;
using Simulator.Config;
using Simulator.Specs;

namespace Simulator.Calibration;

/// <summary>
/// Fitted GPU parameters from a profile; each given field replaces the catalog's value.
/// </summary>
public sealed record GpuCalibration(
    [Range(1e-3, 1_000_000.0)] double? HbmBandwidthGbPerS = null,
    [Range(1e-6, 1_000_000.0)] double? DenseTflops = null,
    [Range(1e-6, 1_000_000.0)] double? PerBlockBandwidthGbPerS = null,
    [Range(1, 64)] int? MaxResidentBlocksPerSm = null,
    [Range(0.0, 1_000_000.0)] double? KernelLaunchUs = null)
{
    public GpuSpec ApplyTo(GpuSpec gpu) => gpu with
    {
        HbmBandwidthGbPerS = HbmBandwidthGbPerS ?? gpu.HbmBandwidthGbPerS,
        DenseTflops = DenseTflops ?? gpu.DenseTflops,
        PerBlockBandwidthGbPerS = PerBlockBandwidthGbPerS ?? gpu.PerBlockBandwidthGbPerS,
        MaxResidentBlocksPerSm = MaxResidentBlocksPerSm ?? gpu.MaxResidentBlocksPerSm,
        KernelLaunchUs = KernelLaunchUs ?? gpu.KernelLaunchUs,
    };
}

/// <summary>How the profiled device computes a prefill's attention.</summary>
public enum PrefillAttention
{
    /// <summary>A fused causal kernel bound by its FLOPs (the closed form's default).</summary>
    Flops,

    /// <summary>Each prompt token as a causal row through the decode-attention kernel (RealRunner's engine): priced by the attention table.</summary>
    Rows,
}

/// <summary>
/// A calibration file, as RealRunner's <c>profile</c> writes it: the device it was measured on,
/// fitted GPU parameters, and measured tables (paths relative to the file):
/// <list type="bullet">
/// <item><c>attention_table</c>: <c>kernel,batch,kv_mean,kv_max,time_us</c>, one layer's decode
/// attention for a batch with that mean and maximum KV length (the length-spread grid);</item>
/// <item><c>dense_table</c>: <c>tokens,time_us</c>, one layer's dense part;</item>
/// <item><c>links_table</c>: <c>link,bytes,time_us</c>, one copy of that size
/// (link: h2d, d2h, d2d or peer).</item>
/// </list>
/// Or, instead of the three tables, <c>vidur_profile</c>: a Vidur profiling folder (<see cref="VidurProfile"/>), read for the
/// experiment's model (the same as <c>--calibration vidur:DIR</c>, with this file's device and fitted GPU fields).
/// </summary>
public sealed record CalibrationConfig(
    string Device,
    string Backend,
    GpuCalibration Gpu,
    [FilePath] string? AttentionTable = null,
    [FilePath] string? DenseTable = null,
    [FilePath] string? LinksTable = null,
    PrefillAttention PrefillAttention = PrefillAttention.Flops,
    [FilePath] string? VidurProfile = null);
