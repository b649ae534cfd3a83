using System.Diagnostics;
using Simulator.Config;
using Simulator.Runs;
using Simulator.Specs;

namespace Simulator.Bench;

/// <summary>Speed of whole serving simulations: simulated time per wall second, iterations and requests per second.</summary>
public static class ServingBenchmark
{
    public sealed record Figure(string Experiment, int Requests, int Iterations, double SimulatedS, double WallS, long AllocatedBytes, long PeakWorkingSetBytes)
    {
        public double SpeedUp => SimulatedS / WallS;

        public double IterationsPerS => Iterations / WallS;

        public double RequestsPerS => Requests / WallS;
    }

    /// <summary>Runs the experiment once to warm the JIT, then measures a second run (no results written).</summary>
    public static Figure Measure(string experimentPath, IReadOnlyList<string> sets)
    {
        var prepared = PreparedRun.From(ExperimentLoader.Load(experimentPath, sets));
        SingleRun.Execute(prepared);
        GC.Collect();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var watch = Stopwatch.StartNew();
        var result = SingleRun.Execute(prepared);
        watch.Stop();
        using var process = Process.GetCurrentProcess();
        return new Figure(prepared.Config.Name, prepared.Requests.Length, result.Metrics.Iterations.Count,
            Units.Seconds(result.Metrics.FinishNs.Max()), watch.Elapsed.TotalSeconds,
            GC.GetTotalAllocatedBytes(precise: true) - allocated, process.PeakWorkingSet64);
    }
}
