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
/// <param name="Memory">The memory plan of the deployment's smallest instances (one GPU unless every group is tensor parallel).</param>
/// <param name="Calibration">The calibration's tables when the config names one (the cost model corrects its closed form with them).</param>
public sealed record PreparedRun(ExperimentConfig Config, RequestSpec[] Requests, MemoryPlan Memory, WorkloadStats Workload, CalibrationTables? Calibration = null)
{
    private readonly Dictionary<int, MemoryPlan> plans = new() { [Memory.Tp] = Memory };

    /// <summary>The memory plan of an instance of <paramref name="tp"/> GPUs.</summary>
    public MemoryPlan MemoryFor(int tp)
    {
        lock (plans)
        {
            if (!plans.TryGetValue(tp, out var plan)) plans[tp] = plan = MemoryPlan.For(Config.Model, Config.Node.Gpu, Config.Engine, tp);
            return plan;
        }
    }

    /// <summary>
    /// The config with a named calibration applied: its fitted GPU parameters replace the catalog's, and a links
    /// table's fitted copy bandwidth and latency replace the node's PCIe (host-device copies) and NVLink (peer copies), and a
    /// measured host time per pass (a Vidur profile's CPU overheads) the engine's, where the experiment does not set it.
    /// </summary>
    public static (ExperimentConfig Config, CalibrationTables? Calibration) Calibrate(ExperimentConfig config)
    {
        if (config.CostModel.Calibration is not { } path) return (config, null);
        var tables = CalibrationTables.Load(path, config.Model, config.Engine.BlockSizeTokens);
        var node = config.Node with { Gpu = tables.Config.Gpu.ApplyTo(config.Node.Gpu) };
        if (LinkFit.Of(tables.Links, "h2d", "d2h") is { } pcie)
            node = node with { Pcie = node.Pcie with { BandwidthGbPerS = pcie.GbPerS, LatencyUs = pcie.LatencyUs } };
        if (LinkFit.Of(tables.Links, "peer") is { } peer)
            node = node with { Nvlink = node.Nvlink with { BandwidthGbPerS = peer.GbPerS, LatencyUs = peer.LatencyUs } };
        var costModel = tables.Host is { } host
            ? config.CostModel with
            {
                EngineCpuFixedUs = config.CostModel.EngineCpuFixedUs ?? host.FixedUs,
                EngineCpuPerSequenceUs = config.CostModel.EngineCpuPerSequenceUs ?? host.PerSequenceUs,
            }
            : config.CostModel;
        return (config with { Node = node, CostModel = costModel }, tables);
    }

    /// <summary>Host memory of each node given to the KV pool.</summary>
    public long HostPoolBytes => (long)((Config.Deployment.HostPoolGib ?? Config.Node.HostMemory.CapacityGib) * Units.GiB);

    public static PreparedRun From(ExperimentConfig config)
    {
        (config, var calibration) = Calibrate(config);
        var degrees = config.Deployment.TpDegrees();
        var memory = MemoryPlan.For(config.Model, config.Node.Gpu, config.Engine, degrees[0]);
        var (requests, stats) = WorkloadBuilder.Build(config.Workload, config.Model, new RandomStreams(config.Seed));
        if (config.MaxRequests is { } cap && requests.Length > cap)
        {
            requests = requests[..cap];
            stats = stats with { Requests = cap };
        }
        if (requests.Length == 0) throw new ConfigException(null, "workload", $"the workload has no requests ({stats.RowsRead} rows read, none selected)");
        config = SplitPlanner.Resolve(config, requests, memory, calibration);
        var prepared = new PreparedRun(config, requests, memory, stats, calibration);
        // Every request must fit each kind of instance it may run on (the smallest in blocks fails first).
        foreach (var tp in degrees) prepared.MemoryFor(tp).CheckFits(requests, "workload");
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
