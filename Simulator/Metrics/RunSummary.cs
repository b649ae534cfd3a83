using MathNet.Numerics.Statistics;
using Policies.Core;
using Simulator.Specs;

namespace Simulator.Metrics;

/// <summary>Mean and percentiles of one quantity (percentiles by the R-7 rule, numpy's default).</summary>
public sealed record Distribution(int Count, double Mean, double P50, double P90, double P99)
{
    private static readonly double[] Quantiles = [0.5, 0.9, 0.99];

    public static Distribution Of(IEnumerable<double> values) => OfOwned(values.ToArray());

    /// <summary>Of durations in nanoseconds, in seconds (one array of exactly their count).</summary>
    public static Distribution OfNanoseconds(IReadOnlyList<long> ns)
    {
        var seconds = new double[ns.Count];
        for (var i = 0; i < seconds.Length; i++) seconds[i] = Units.Seconds(ns[i]);
        return OfOwned(seconds);
    }

    /// <summary>Of an array it may reorder.</summary>
    private static Distribution OfOwned(double[] data)
    {
        if (data.Length == 0) return new Distribution(0, double.NaN, double.NaN, double.NaN, double.NaN);
        var mean = data.Average();
        // R-7 reads the order statistics at floor((n - 1) q) and the next; selecting those (and one on
        // either side) is linear, where sorting a million pass times took a sixth of a run.
        var positions = new SortedSet<int>();
        foreach (var q in Quantiles)
            for (var d = -1; d <= 2; d++)
                positions.Add(Math.Clamp((int)Math.Floor((data.Length - 1) * q) + d, 0, data.Length - 1));
        OrderStatistics.Select(data.AsSpan(), positions);
        double Q(double tau) => SortedArrayStatistics.QuantileCustom(data, tau, QuantileDefinition.R7);
        return new Distribution(data.Length, mean, Q(0.5), Q(0.9), Q(0.99));
    }
}

/// <summary>Link utilisation of one link class: carried bytes over bandwidth x makespan.</summary>
public sealed record LinkUsage(int Links, double Bytes, double MeanUtilisation, double MaxUtilisation);

/// <summary>
/// The headline metrics of a run (DESIGN section 6). Times in seconds. Bubbles are fractions of
/// the decode-capable GPUs' time (colocated and decode roles) over the makespan: iteration-level
/// (attention makespan beyond its balanced time), batch-level (idle while pulled KV is on its
/// way) and request-level (idle with nothing to run). TPOT is split into its two parts
/// (<see cref="RequestLatency"/>): the pool wait (first to second token) and the inter-token latency during
/// decoding. Batch switches: <c>BatchSwitchIterationShare</c> counts decode passes that brought a new batch in
/// (AlignedServe's paper), <c>BatchCoexistIterationShare</c> those in which two batches' members ran together.
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
    Distribution ItlS,
    Distribution PoolWaitS,
    double PoolWaitMaxS,
    Distribution E2eS,
    Distribution IterationTimeS,
    double GpuBusyS,
    double GpuBusyFraction,
    double IterationBubbleFraction,
    double BatchBubbleFraction,
    double RequestBubbleFraction,
    int KvBlocksPerGpu,
    int PeakKvBlocksUsed,
    long KvTransfers,
    double KvTransferredGib,
    double HostPoolCapacityGib,
    double HostPoolPeakGib,
    double HostPoolMeanGib,
    double BatchSwitchIterationShare,
    double BatchCoexistIterationShare,
    IReadOnlyDictionary<string, double> BusyFractionByRole,
    IReadOnlyDictionary<string, LinkUsage> LinkUtilisation)
{
    public static RunSummary From(MetricsRecorder metrics, int kvBlocks, IReadOnlyList<Fabric.Link> links, long hostPoolBytes)
    {
        var specs = metrics.Requests;
        var firstArrival = specs.Count == 0 ? 0 : specs.Min(r => r.ArrivalNs);
        var lastFinish = metrics.FinishNs.DefaultIfEmpty(0).Max();
        var makespanNs = lastFinish - firstArrival;
        var makespanS = Units.Seconds(makespanNs);
        long generated = 0;
        var ttft = new List<double>();
        var tpot = new List<double>();
        var e2e = new List<double>();
        var itl = new List<double>();
        var poolWait = new List<double>();
        for (var i = 0; i < specs.Count; i++)
        {
            if (metrics.FinishNs[i] < 0) continue;
            var spec = specs[i];
            generated += spec.OutputTokens;
            ttft.Add(Units.Seconds(metrics.FirstTokenNs[i] - spec.ArrivalNs));
            e2e.Add(Units.Seconds(metrics.FinishNs[i] - spec.ArrivalNs));
            if (spec.OutputTokens > 1)
                tpot.Add(Units.Seconds(metrics.FinishNs[i] - metrics.FirstTokenNs[i]) / (spec.OutputTokens - 1));
            var (wait, gap) = RequestLatency.Decoding(metrics, i, spec.OutputTokens);
            if (!double.IsNaN(wait)) poolWait.Add(wait);
            if (!double.IsNaN(gap)) itl.Add(gap);
        }
        var gpus = metrics.Gpus;
        var decoders = gpus.Where(g => g.Role != GpuRole.Prefill).ToList();
        double DecodeShare(Func<GpuRecord, double> ns) =>
            makespanNs > 0 && decoders.Count > 0 ? decoders.Sum(ns) / ((double)makespanNs * decoders.Count) : 0;
        var busyNs = gpus.Sum(g => (double)g.BusyNs);
        var (poolPeak, poolMean) = PoolOccupancy(metrics, firstArrival, lastFinish);
        return new RunSummary(
            specs.Count, metrics.Finished, generated, metrics.IterationCount, metrics.Preemptions.Sum(),
            makespanS,
            makespanS > 0 ? generated / makespanS : 0,
            makespanS > 0 ? metrics.Finished / makespanS : 0,
            Distribution.Of(ttft), Distribution.Of(tpot), Distribution.Of(itl), Distribution.Of(poolWait),
            poolWait.Count == 0 ? double.NaN : poolWait.Max(), Distribution.Of(e2e),
            Distribution.OfNanoseconds(metrics.IterationNs),
            busyNs / Units.NsPerSecond,
            makespanNs > 0 ? busyNs / ((double)makespanNs * gpus.Count) : 0,
            DecodeShare(g => g.BubbleNs),
            DecodeShare(g => g.WaitingForKvNs),
            DecodeShare(g => Math.Max(0, makespanNs - g.BusyNs - g.WaitingForKvNs)),
            kvBlocks,
            metrics.PeakKvBlocksUsed,
            metrics.Transfers.Count,
            metrics.Transfers.Sum(t => (double)t.Bytes) / Units.GiB,
            hostPoolBytes / Units.GiB,
            poolPeak / Units.GiB,
            poolMean / Units.GiB,
            metrics.DecodeGpuIterations == 0 ? 0 : metrics.DecodeGpuBatchSwitches / (double)metrics.DecodeGpuIterations,
            metrics.DecodeGpuIterations == 0 ? 0 : metrics.DecodeGpuBatchCoexisting / (double)metrics.DecodeGpuIterations,
            gpus.GroupBy(g => g.RoleName).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key,
                g => makespanNs > 0 ? g.Sum(x => (double)x.BusyNs) / ((double)makespanNs * g.Count()) : 0),
            links.GroupBy(l => l.Kind).OrderBy(g => g.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g =>
            {
                double Utilisation(Fabric.Link l) => makespanNs > 0 ? l.BytesCarried / (l.BytesPerNs * makespanNs) : 0;
                return new LinkUsage(g.Count(), g.Sum(l => l.BytesCarried), g.Average(Utilisation), g.Max(Utilisation));
            }));
    }

    /// <summary>Peak and time-weighted mean occupancy of the fullest node's host pool over the makespan.</summary>
    private static (double Peak, double Mean) PoolOccupancy(MetricsRecorder metrics, long fromNs, long toNs)
    {
        double peak = 0, mean = 0;
        foreach (var node in metrics.PoolSamples.GroupBy(s => s.Node))
        {
            double area = 0, level = 0;
            var last = fromNs;
            foreach (var (time, _, used) in node)
            {
                area += level * (Math.Clamp(time, fromNs, toNs) - last);
                last = Math.Clamp(time, fromNs, toNs);
                level = used;
                peak = Math.Max(peak, used);
            }
            area += level * (toNs - last);
            mean = Math.Max(mean, toNs > fromNs ? area / (toNs - fromNs) : 0);
        }
        return (peak, mean);
    }
}
