using System.Diagnostics;
using Policies.Core;
using Policies.Memory;
using Simulator.CostModel;
using Simulator.Engine;
using Simulator.Metrics;
using Simulator.Serving;
using Simulator.Specs;

namespace Simulator.Runs;

/// <summary>The outcome of one simulated run.</summary>
public sealed record RunResult(PreparedRun Run, MetricsRecorder Metrics, RunSummary Summary, long Events, double WallSeconds);

/// <summary>Runs one prepared experiment: one GPU, prefill and decode colocated.</summary>
public static class SingleRun
{
    /// <summary>Simulated time between progress reports.</summary>
    private const long SliceNs = 10 * Units.NsPerSecond;

    public static RunResult Execute(PreparedRun run, Action<int, int>? progress = null, CancellationToken cancel = default)
    {
        var wall = Stopwatch.StartNew();
        var config = run.Config;
        var blocks = new KvBlockManager(run.Memory.KvBlocks, run.Memory.BlockSizeTokens);
        var policy = config.Policy.Descriptor.Create(config.Policy.Options, new PolicyContext(blocks));
        var costModel = new ForwardCostModel(config.Model, config.Node.Gpu, config.CostModel);
        var metrics = new MetricsRecorder(run.Requests);
        var sim = new Simulation();
        var server = new ColocatedServer(sim, policy, blocks, costModel, metrics, run.Requests);
        while (!server.Done.IsProcessed && sim.PendingEvents > 0)
        {
            cancel.ThrowIfCancellationRequested();
            sim.Run(sim.Now + SliceNs);
            progress?.Invoke(metrics.Finished, run.Requests.Length);
        }
        if (metrics.Finished != run.Requests.Length)
            throw new InvalidOperationException($"Simulation stopped with {metrics.Finished} of {run.Requests.Length} requests finished.");
        return new RunResult(run, metrics, RunSummary.From(metrics, blocks.TotalBlocks), sim.ProcessedEvents, wall.Elapsed.TotalSeconds);
    }
}
