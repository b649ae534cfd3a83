using Simulator.Config;
using Simulator.Randomness;
using Simulator.Serving;
using Simulator.Workload;

namespace Simulator.Runs;

/// <summary>
/// An experiment checked against its hardware before anything runs: the workload drawn, the
/// GPU memory planned, every request known to fit. Building one is what <c>check</c> does.
/// </summary>
public sealed record PreparedRun(ExperimentConfig Config, RequestSpec[] Requests, MemoryPlan Memory, WorkloadStats Workload)
{
    public static PreparedRun From(ExperimentConfig config)
    {
        var memory = MemoryPlan.For(config.Model, config.Node.Gpu, config.Engine);
        var (requests, stats) = WorkloadBuilder.Build(config.Workload, config.Model, new RandomStreams(config.Seed));
        if (requests.Length == 0) throw new ConfigException(null, "workload", $"the workload has no requests ({stats.RowsRead} rows read, none selected)");
        memory.CheckFits(requests, "workload");
        return new PreparedRun(config, requests, memory, stats);
    }
}
