using MathNet.Numerics.Statistics;
using Simulator.Specs;

namespace Simulator.Metrics;

/// <summary>Mean and percentiles of one quantity (percentiles by the R-7 rule, numpy's default).</summary>
public sealed record Distribution(int Count, double Mean, double P50, double P90, double P99)
{
    public static Distribution Of(IEnumerable<double> values)
    {
        var data = values.ToArray();
        if (data.Length == 0) return new Distribution(0, double.NaN, double.NaN, double.NaN, double.NaN);
        var mean = data.Average();
        Array.Sort(data);
        double Q(double tau) => SortedArrayStatistics.QuantileCustom(data, tau, QuantileDefinition.R7);
        return new Distribution(data.Length, mean, Q(0.5), Q(0.9), Q(0.99));
    }
}

/// <summary>
/// The headline metrics of a run (DESIGN section 6). Times in seconds. Bubbles are fractions
/// of the GPU's time over the makespan: iteration-level (attention makespan beyond its
/// balanced time) and request-level (GPU idle with nothing to run).
/// </summary>
public sealed record RunSummary(
    int Requests,
    int Finished,
    long GeneratedTokens,
    int Iterations,
    int Preemptions,
    double MakespanS,
    double DecodeThroughputTokensPerS,
    double RequestThroughputPerS,
    Distribution TtftS,
    Distribution TpotS,
    Distribution E2eS,
    Distribution IterationTimeS,
    double GpuBusyS,
    double GpuBusyFraction,
    double IterationBubbleFraction,
    double RequestBubbleFraction,
    int KvBlocks,
    int PeakKvBlocksUsed)
{
    public static RunSummary From(MetricsRecorder metrics, int kvBlocks)
    {
        var specs = metrics.Requests;
        var firstArrival = specs.Count == 0 ? 0 : specs.Min(r => r.ArrivalNs);
        var lastFinish = metrics.FinishNs.DefaultIfEmpty(0).Max();
        var makespanS = Units.Seconds(lastFinish - firstArrival);
        long generated = 0;
        var ttft = new List<double>();
        var tpot = new List<double>();
        var e2e = new List<double>();
        for (var i = 0; i < specs.Count; i++)
        {
            if (metrics.FinishNs[i] < 0) continue;
            var spec = specs[i];
            generated += spec.OutputTokens;
            ttft.Add(Units.Seconds(metrics.FirstTokenNs[i] - spec.ArrivalNs));
            e2e.Add(Units.Seconds(metrics.FinishNs[i] - spec.ArrivalNs));
            if (spec.OutputTokens > 1)
                tpot.Add(Units.Seconds(metrics.FinishNs[i] - metrics.FirstTokenNs[i]) / (spec.OutputTokens - 1));
        }
        var iterations = metrics.Iterations;
        var busyS = Units.Seconds(metrics.BusyNs);
        var bubbleS = Units.Seconds(iterations.Sum(it => it.BubbleNs));
        double Share(double s) => makespanS > 0 ? s / makespanS : 0;
        return new RunSummary(
            specs.Count, metrics.Finished, generated, iterations.Count, metrics.Preemptions.Sum(),
            makespanS,
            makespanS > 0 ? generated / makespanS : 0,
            makespanS > 0 ? metrics.Finished / makespanS : 0,
            Distribution.Of(ttft), Distribution.Of(tpot), Distribution.Of(e2e),
            Distribution.Of(iterations.Select(it => Units.Seconds(it.DurationNs))),
            busyS, Share(busyS), Share(bubbleS), Share(makespanS - busyS),
            kvBlocks, iterations.Count == 0 ? 0 : iterations.Max(it => it.KvBlocksUsed));
    }
}
