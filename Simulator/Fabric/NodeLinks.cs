using Simulator.Specs;

namespace Simulator.Fabric;

/// <summary>
/// The links of one node (DESIGN section 5): per GPU a PCIe link in each direction; NVLink
/// ports through a switch, or one link per ordered GPU pair, or none (peer copies then cross
/// host memory); host memory bandwidth shared by all PCIe traffic of the node.
/// </summary>
public sealed class NodeLinks
{
    private readonly Link[] h2d, d2h, nvOut, nvIn;
    private readonly Dictionary<(int, int), Link> pairs = [];
    private readonly NodeSpec spec;
    private readonly long pcieLatencyNs, nvlinkLatencyNs;

    public NodeLinks(NodeSpec spec, int gpus, string prefix)
    {
        this.spec = spec;
        this.gpus = gpus;
        toGpu = new TransferPath?[gpus];
        toHost = new TransferPath?[gpus];
        peer = new TransferPath?[gpus * gpus];
        pcieLatencyNs = (long)Math.Round(spec.Pcie.LatencyUs * Units.NsPerMicrosecond);
        nvlinkLatencyNs = (long)Math.Round(spec.Nvlink.LatencyUs * Units.NsPerMicrosecond);
        HostMemory = new Link($"{prefix}host-memory", "host_memory", spec.HostMemory.BandwidthGbPerS);
        h2d = Make(gpus, g => new Link($"{prefix}gpu{g}-pcie-h2d", "pcie_h2d", spec.Pcie.BandwidthGbPerS));
        d2h = Make(gpus, g => new Link($"{prefix}gpu{g}-pcie-d2h", "pcie_d2h", spec.Pcie.BandwidthGbPerS));
        var switched = spec.Nvlink.Topology == NvlinkTopology.Switch;
        nvOut = switched ? Make(gpus, g => new Link($"{prefix}gpu{g}-nvlink-out", "nvlink", spec.Nvlink.BandwidthGbPerS)) : [];
        nvIn = switched ? Make(gpus, g => new Link($"{prefix}gpu{g}-nvlink-in", "nvlink", spec.Nvlink.BandwidthGbPerS)) : [];
        if (spec.Nvlink.Topology == NvlinkTopology.Pairwise)
            for (var a = 0; a < gpus; a++)
                for (var b = 0; b < gpus; b++)
                    if (a != b) pairs[(a, b)] = new Link($"{prefix}gpu{a}-to-gpu{b}-nvlink", "nvlink", spec.Nvlink.BandwidthGbPerS);
    }

    public Link HostMemory { get; }

    public IEnumerable<Link> All => h2d.Concat(d2h).Concat(nvOut).Concat(nvIn).Concat(pairs.Values).Append(HostMemory);

    public TransferPath HostToGpu(int gpu) => toGpu[gpu] ??= new([HostMemory, h2d[gpu]], pcieLatencyNs);

    public TransferPath GpuToHost(int gpu) => toHost[gpu] ??= new([d2h[gpu], HostMemory], pcieLatencyNs);

    /// <summary>A peer copy: over NVLink when the node has it, else through host memory.</summary>
    public TransferPath GpuToGpu(int from, int to) => peer[from * gpus + to] ??= spec.Nvlink.Topology switch
    {
        NvlinkTopology.Switch when spec.Nvlink.BandwidthGbPerS > 0 => new([nvOut[from], nvIn[to]], nvlinkLatencyNs),
        NvlinkTopology.Pairwise when spec.Nvlink.BandwidthGbPerS > 0 => new([pairs[(from, to)]], nvlinkLatencyNs),
        _ => new([d2h[from], HostMemory, h2d[to]], 2 * pcieLatencyNs),
    };

    // Paths are immutable: each is built once, at its first transfer, not at every KV move.
    private readonly int gpus;
    private readonly TransferPath?[] toGpu, toHost, peer;

    private static Link[] Make(int n, Func<int, Link> make) => Enumerable.Range(0, n).Select(make).ToArray();
}
