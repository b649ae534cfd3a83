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

    /// <summary>
    /// Runs the experiment until the JIT is done with it: at least <see cref="MinimumWarmUpRuns"/> runs (or <see cref="LongWarmUp"/>)
    /// and a second, no method compiled (or recompiled at a higher tier) during the last run, and two successive runs within 5% (at
    /// most 200 runs, or a minute once the minimum is reached). Without the compile count, a run could look steady while hot methods still waited for
    /// their optimized versions: measured on Azure conversation, a first measurement of 1.2 s where the next one gave 0.31 s.
    /// Without the minimum, the count is fooled: tiered compilation promotes a method after 30 calls, in batches that come a while
    /// later (ten times later in a process that sees one CPU, as under <c>taskset -c 0</c>), so quiet runs come between them, and a
    /// method a run calls once is promoted after 30 runs. Measured on the TP scenario (30 November, one process, 45 runs): the first
    /// runs took 700-790 ms and were quiet; batches of 100, 238, 86, 380, 226 and 326 methods came in runs 5, 8, 12-13, 21-22 and 27,
    /// and from run 9 on runs took 205-330 ms (those with a batch up to 576 ms). Stopping at the first quiet pair, as before, measured
    /// the 700 ms code in some processes and the 230 ms code in others.
    /// </summary>
    public static void WarmUp(PreparedRun prepared)
    {
        var previous = double.MaxValue;
        var total = Stopwatch.StartNew();
        TimeSpan? minimumReached = null;
        for (var warm = 0; warm < 200; warm++)
        {
            var compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
            var clock = Stopwatch.StartNew();
            SingleRun.Execute(prepared);
            var seconds = clock.Elapsed.TotalSeconds;
            var quiet = System.Runtime.JitInfo.GetCompiledMethodCount() == compiled;
            if ((warm + 1 >= MinimumWarmUpRuns || total.Elapsed >= LongWarmUp) && total.Elapsed.TotalSeconds >= 1)
            {
                minimumReached ??= total.Elapsed;
                if (quiet && Math.Abs(seconds - previous) <= 0.05 * previous) break;
                if (total.Elapsed - minimumReached > TimeSpan.FromMinutes(1)) break;
            }
            previous = seconds;
        }
    }

    /// <summary>
    /// Warm-up runs at least: tiered compilation's call-count threshold (30), so a method each run calls once has been promoted;
    /// or <see cref="LongWarmUp"/> of runs, whichever comes first (an experiment whose run takes seconds has long promoted what
    /// matters to it, and 30 of its runs would take minutes).
    /// </summary>
    public const int MinimumWarmUpRuns = 30;

    /// <summary>Warm-up time after which fewer than <see cref="MinimumWarmUpRuns"/> runs will do (the TP scenario's hot code was final after 3 s).</summary>
    public static readonly TimeSpan LongWarmUp = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Warms the JIT until the code is steady (tiered compilation promotes hot methods to optimized,
    /// profile-guided code in the background: one warm-up run is not enough; measured here, the second
    /// run of a process was 3x slower than the fifth), then measures one run (no results written).
    /// See <see cref="WarmUp"/>.
    /// </summary>
    public static Figure Measure(string experimentPath, IReadOnlyList<string> sets) =>
        Measure(PreparedRun.From(ExperimentLoader.Load(experimentPath, sets)));

    /// <inheritdoc cref="Measure(string, IReadOnlyList{string})"/>
    /// <remarks>The fastest of <see cref="MeasuredRuns"/> runs: this shared machine's timings swing by
    /// several times between runs when a neighbour is busy, and a run is never faster than the code allows.</remarks>
    public static Figure Measure(PreparedRun prepared)
    {
        WarmUp(prepared);
        Figure? best = null;
        for (var i = 0; i < MeasuredRuns; i++)
        {
            GC.Collect();
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var watch = Stopwatch.StartNew();
            var result = SingleRun.Execute(prepared);
            watch.Stop();
            using var process = Process.GetCurrentProcess();
            var figure = new Figure(prepared.Config.Name, prepared.Requests.Length, result.Metrics.IterationCount,
                Units.Seconds(result.Metrics.FinishNs.Max()), watch.Elapsed.TotalSeconds,
                GC.GetTotalAllocatedBytes(precise: true) - allocated, process.PeakWorkingSet64);
            if (best is null || figure.WallS < best.WallS) best = figure;
        }
        return best!;
    }

    /// <summary>Measured runs after the warm-up; the fastest is reported.</summary>
    public const int MeasuredRuns = 3;

    /// <summary>Prepares a generated experiment (YAML text, the shipped catalogs) through a temporary file, removed once loaded.</summary>
    public static PreparedRun Prepare(string yaml)
    {
        var path = Path.Combine(Path.GetTempPath(), $"alignedserve-bench-{Environment.ProcessId}-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml);
        try
        {
            return PreparedRun.From(ExperimentLoader.Load(path, [], catalog: Catalog.Shipped()));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
