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

/// <summary>
/// All-reduce among <paramref name="Gpus"/> GPUs of the node, fitted to published measurements as
/// time = latency + 2 (n - 1) / n * bytes / bus bandwidth (the ring's traffic per GPU; NCCL's busbw convention).
/// </summary>
/// <param name="LatencyUs">The fitted time of a message too small to be bandwidth-bound.</param>
/// <param name="BusBandwidthGbPerS">The fitted bus bandwidth (NCCL's busbw), GB/s.</param>
public sealed record AllReduceFit(
    [Range(2, 1024)] int Gpus,
    [Range(0.0, 1_000_000.0)] double LatencyUs,
    [Range(0.01, 100_000.0)] double BusBandwidthGbPerS);

/// <summary>A serving node (configs/hardware/nodes/): GPUs, their links and host memory.</summary>
/// <param name="AllReduce">Measured all-reduce fits by GPU count, for tensor-parallel instances (none: the node runs only one-GPU instances):
/// NCCL's, which every engine can use.</param>
/// <param name="CustomAllReduce">Measured fits of vLLM's custom all-reduce kernel by GPU count (none: engines that would use it fall back to NCCL's,
/// as vLLM does where it cannot run it).</param>
public sealed record NodeSpec(
    string Name,
    [Catalog("hardware/gpus")] GpuSpec Gpu,
    [Range(1, 1024)] int GpuCount,
    NvlinkSpec Nvlink,
    PcieSpec Pcie,
    HostMemorySpec HostMemory,
    IReadOnlyList<AllReduceFit>? AllReduce = null,
    IReadOnlyList<AllReduceFit>? CustomAllReduce = null)
{
    /// <summary>The all-reduce fit for <paramref name="gpus"/> GPUs, or null when the node has none measured.</summary>
    public AllReduceFit? AllReduceFor(int gpus) => AllReduce?.FirstOrDefault(f => f.Gpus == gpus);

    /// <summary>
    /// The fit of vLLM's custom all-reduce for <paramref name="gpus"/> GPUs where vLLM would run it: two GPUs, or every GPU reaching every
    /// other over NVLink (vllm-project/vllm, vllm/distributed/device_communicators/custom_all_reduce.py, <c>should_custom_ar</c>); else null.
    /// </summary>
    public AllReduceFit? CustomAllReduceFor(int gpus) =>
        gpus == 2 || Nvlink.Topology == NvlinkTopology.Switch ? CustomAllReduce?.FirstOrDefault(f => f.Gpus == gpus) : null;

    // Value equality over the all-reduce fits (a record compares lists by reference): a resolved config loads back equal.
    public bool Equals(NodeSpec? other) => other is not null && Name == other.Name && Gpu == other.Gpu && GpuCount == other.GpuCount
                                          && Nvlink == other.Nvlink && Pcie == other.Pcie && HostMemory == other.HostMemory
                                          && (AllReduce ?? []).SequenceEqual(other.AllReduce ?? [])
                                          && (CustomAllReduce ?? []).SequenceEqual(other.CustomAllReduce ?? []);

    public override int GetHashCode() => HashCode.Combine(Name, Gpu, GpuCount, Nvlink, Pcie, HostMemory, AllReduce?.Count ?? 0);
}
