using Simulator.Config;
using Simulator.Randomness;
using Simulator.Serving;
using Simulator.Workload;

namespace Simulator.Runs;

/// <summary>
/// An experiment checked against its hardware before anything runs: the workload drawn, the
/// GPU memory planned, every request known to fit. Building one is what <c>check</c> does.
/// </summary>
public sealed record PreparedRun(ExperimentConfig Config, RequestSpec[] Requests, MemoryPlan Memory)
{
    public static PreparedRun From(ExperimentConfig config)
    {
        var memory = MemoryPlan.For(config.Model, config.Node.Gpu, config.Engine);
        var requests = config.Workload switch
        {
            SyntheticWorkload synthetic => SyntheticGenerator.Generate(synthetic, new RandomStreams(config.Seed)),
            _ => throw new NotSupportedException(config.Workload.GetType().Name),
        };
        memory.CheckFits(requests, "workload");
        return new PreparedRun(config, requests, memory);
    }
}
