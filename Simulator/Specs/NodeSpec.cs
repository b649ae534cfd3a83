using System.ComponentModel.DataAnnotations;
using Simulator.Config;

namespace Simulator.Specs;

public enum NvlinkTopology
{
    /// <summary>Every GPU reaches every other through NVSwitch at its full per-GPU bandwidth.</summary>
    Switch,

    /// <summary>Direct links between GPU pairs; the bandwidth is per pair.</summary>
    Pairwise,

    /// <summary>No NVLink: peer traffic goes over PCIe.</summary>
    None,
}

/// <param name="BandwidthGbPerS">Achievable one-way bandwidth per GPU (copy engine), GB/s.</param>
public sealed record NvlinkSpec(
    NvlinkTopology Topology,
    [Range(0.0, 100_000.0)] double BandwidthGbPerS,
    [Range(0.0, 1_000_000.0)] double LatencyUs);

/// <param name="BandwidthGbPerS">Achievable pinned-copy bandwidth per GPU and direction, GB/s.</param>
public sealed record PcieSpec(
    [Range(1, 7)] int Generation,
    [Range(1, 32)] int Lanes,
    [Range(0.01, 10_000.0)] double BandwidthGbPerS,
    [Range(0.0, 1_000_000.0)] double LatencyUs);

public sealed record HostMemorySpec(
    [Range(0.001, 1_000_000.0)] double CapacityGib,
    [Range(0.01, 100_000.0)] double BandwidthGbPerS);

/// <summary>A serving node (configs/hardware/nodes/): GPUs, their links and host memory.</summary>
public sealed record NodeSpec(
    string Name,
    [Catalog("hardware/gpus")] GpuSpec Gpu,
    [Range(1, 1024)] int GpuCount,
    NvlinkSpec Nvlink,
    PcieSpec Pcie,
    HostMemorySpec HostMemory);
