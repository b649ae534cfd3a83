using Simulator.Calibration;
using Simulator.Config;
using Simulator.Randomness;
using Simulator.Serving;
using Simulator.Specs;
using Simulator.Workload;

namespace Simulator.Runs;

/// <summary>
/// An experiment checked against its hardware before anything runs: the workload drawn, the
/// GPU memory planned, every request known to fit. Building one is what <c>check</c> does.
/// </summary>
/// <param name="Calibration">The calibration's tables when the config names one (the cost model corrects its closed form with them).</param>
public sealed record PreparedRun(ExperimentConfig Config, RequestSpec[] Requests, MemoryPlan Memory, WorkloadStats Workload, CalibrationTables? Calibration = null)
{
    /// <summary>
    /// The config with a named calibration applied: its fitted GPU parameters replace the catalog's, and a links
    /// table's fitted copy bandwidth and latency replace the node's PCIe (host-device copies) and NVLink (peer copies).
    /// </summary>
    public static (ExperimentConfig Config, CalibrationTables? Calibration) Calibrate(ExperimentConfig config)
    {
        if (config.CostModel.Calibration is not { } path) return (config, null);
        var tables = CalibrationTables.Load(path);
        var node = config.Node with { Gpu = tables.Config.Gpu.ApplyTo(config.Node.Gpu) };
        if (LinkFit.Of(tables.Links, "h2d", "d2h") is { } pcie)
            node = node with { Pcie = node.Pcie with { BandwidthGbPerS = pcie.GbPerS, LatencyUs = pcie.LatencyUs } };
        if (LinkFit.Of(tables.Links, "peer") is { } peer)
            node = node with { Nvlink = node.Nvlink with { BandwidthGbPerS = peer.GbPerS, LatencyUs = peer.LatencyUs } };
        return (config with { Node = node }, tables);
    }

    /// <summary>Host memory of each node given to the KV pool.</summary>
    public long HostPoolBytes => (long)((Config.Deployment.HostPoolGib ?? Config.Node.HostMemory.CapacityGib) * Units.GiB);

    public static PreparedRun From(ExperimentConfig config)
    {
        (config, var calibration) = Calibrate(config);
        var memory = MemoryPlan.For(config.Model, config.Node.Gpu, config.Engine);
        var (requests, stats) = WorkloadBuilder.Build(config.Workload, config.Model, new RandomStreams(config.Seed));
        if (config.MaxRequests is { } cap && requests.Length > cap)
        {
            requests = requests[..cap];
            stats = stats with { Requests = cap };
        }
        if (requests.Length == 0) throw new ConfigException(null, "workload", $"the workload has no requests ({stats.RowsRead} rows read, none selected)");
        memory.CheckFits(requests, "workload");
        config = SplitPlanner.Resolve(config, requests, memory, calibration);
        var prepared = new PreparedRun(config, requests, memory, stats, calibration);
        // The host pool must hold the largest KV it can be asked to: a prompt's (handoff) or a whole request's (swap).
        var swaps = config.Policy.Descriptor.Swaps?.Invoke(config.Policy.Options) ?? false;
        var handoff = config.Deployment.Handoff == KvHandoff.HostPool;
        var largest = (swaps ? requests.Max(r => (long)r.PromptTokens + r.OutputTokens - 1) : requests.Max(r => (long)r.PromptTokens))
            * config.Model.KvBytesPerToken;
        if ((swaps || handoff) && largest > prepared.HostPoolBytes)
            throw new ConfigException(null, "deployment.host_pool_gib",
                $"the host KV pool ({prepared.HostPoolBytes / Units.GiB:0.###} GiB) cannot hold the largest {(swaps ? "request's" : "prompt's")} KV ({largest / Units.GiB:0.###} GiB)");
        return prepared;
    }
}
