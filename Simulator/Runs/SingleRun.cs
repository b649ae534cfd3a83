using System.Diagnostics;
using Simulator.Engine;
using Simulator.Fabric;
using Simulator.Metrics;
using Simulator.Serving;
using Simulator.Specs;

namespace Simulator.Runs;

/// <summary>The outcome of one simulated run.</summary>
/// <param name="Notes">What a reader must know about how the run was priced (for example, passes outside a calibration's tables).</param>
public sealed record RunResult(PreparedRun Run, MetricsRecorder Metrics, RunSummary Summary, IReadOnlyList<Link> Links, long Events, double WallSeconds,
    IReadOnlyList<string> Notes);

/// <summary>Runs one prepared experiment on its deployment.</summary>
public static class SingleRun
{
    /// <summary>Simulated time between progress reports.</summary>
    private const long SliceNs = 10 * Units.NsPerSecond;

    /// <param name="backend">What executes the forward passes and KV moves (default: the cost model and the links' fabric).</param>
    public static RunResult Execute(PreparedRun run, Action<int, int>? progress = null, CancellationToken cancel = default, BackendFactory? backend = null)
    {
        var wall = Stopwatch.StartNew();
        var gpus = Cluster.Layout(run.Config);
        var trace = run.Config.Metrics.Trace is { } traceConfig ? new Tracing.TraceRecorder(traceConfig, run.Requests, gpus) : null;
        var metrics = new MetricsRecorder(run.Requests, gpus, run.Config.Metrics.IterationRecords, trace);
        var sim = new Simulation();
        var cluster = new Cluster(sim, run, metrics, gpus, backend);
        var serving = cluster.Progress;
        while (!serving.AllFinished && sim.PendingEvents > 0)
        {
            cancel.ThrowIfCancellationRequested();
            sim.Run(sim.Now + SliceNs);
            progress?.Invoke(serving.Finished, run.Requests.Length);
        }
        if (!serving.AllFinished)
            throw new InvalidOperationException(
                $"Simulation stopped at t={sim.Now} ns with {serving.Finished} of {run.Requests.Length} requests finished: {cluster.Describe()}");
        var links = cluster.Links.ToList();
        List<string> notes = [.. run.Calibration?.Notes ?? []];
        if (backend is null && cluster.CostModel.CalibrationReport() is { } report) notes.Add(report);
        return new RunResult(run, metrics, RunSummary.From(metrics, run.Memory.KvBlocks, links, run.HostPoolBytes), links,
            sim.ProcessedEvents, wall.Elapsed.TotalSeconds, notes);
    }
}
