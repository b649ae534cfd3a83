using System.Diagnostics;

namespace Simulator.Metrics;

/// <summary>
/// Wall-clock times of a run's policy decisions, kept as a histogram (log-spaced buckets,
/// <see cref="BucketsPerDecade"/> per decade: bucket k holds times in (10^((k-1)/20), 10^(k/20)] us)
/// with the exact count, sum, maximum and share under 5 ms. Recording one costs no allocation, so
/// timing every decision of a million-pass run keeps no list of a million times. Percentiles are
/// read from the histogram: the upper bound of the bucket holding the rank (at most 12% above the
/// exact value). Measured on the simulating machine: not deterministic.
/// </summary>
public sealed class DecisionTimes
{
    public const int BucketsPerDecade = 20;

    /// <summary>Buckets from 10^-3 us (bucket -60, where every shorter time goes) to 10^7 us.</summary>
    private const int LowestBucket = -3 * BucketsPerDecade;

    private const int HighestBucket = 7 * BucketsPerDecade;

    /// <summary>Bucket of each time under this many stopwatch ticks, computed once.</summary>
    private const int TabledTicks = 8192;

    private static readonly int[] BucketOfTicks = Enumerable.Range(0, TabledTicks).Select(t => BucketOf(Microseconds(t))).ToArray();

    private readonly long[] counts = new long[HighestBucket - LowestBucket + 1];

    public long Count { get; private set; }

    public double SumUs { get; private set; }

    public double MaxUs { get; private set; }

    /// <summary>Decisions that took under 5 ms.</summary>
    public long Under5Ms { get; private set; }

    public double MeanUs => Count == 0 ? double.NaN : SumUs / Count;

    /// <summary>Records a decision that took <paramref name="ticks"/> of <see cref="Stopwatch"/>.</summary>
    public void Add(long ticks)
    {
        var us = Microseconds(ticks);
        var bucket = (ulong)ticks < TabledTicks ? BucketOfTicks[ticks] : BucketOf(us);
        counts[bucket - LowestBucket]++;
        Count++;
        SumUs += us;
        if (us > MaxUs) MaxUs = us;
        if (us < 5000) Under5Ms++;
    }

    /// <summary>Decisions per bucket (upper bound in us), empty buckets left out, shortest first.</summary>
    public IReadOnlyList<(double UpperUs, long Count)> Histogram()
    {
        var rows = new List<(double, long)>();
        for (var i = 0; i < counts.Length; i++)
            if (counts[i] > 0) rows.Add((UpperUs(i + LowestBucket), counts[i]));
        return rows;
    }

    /// <summary>The upper bound of the bucket holding the decision of rank ceil(q * count) (q in (0, 1]).</summary>
    public double Percentile(double q)
    {
        if (Count == 0) return double.NaN;
        var rank = Math.Max(1, (long)Math.Ceiling(q * Count));
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
            if ((seen += counts[i]) >= rank) return UpperUs(i + LowestBucket);
        return MaxUs;
    }

    /// <summary>Mean and P50/P90/P99 as a <see cref="Distribution"/> (percentiles from the histogram).</summary>
    public Distribution Summary() => new((int)Math.Min(int.MaxValue, Count), MeanUs, Percentile(0.5), Percentile(0.9), Percentile(0.99));

    private static double Microseconds(long ticks) => ticks * 1e6 / Stopwatch.Frequency;

    private static double UpperUs(int bucket) => Math.Pow(10, bucket / (double)BucketsPerDecade);

    private static int BucketOf(double us) =>
        Math.Clamp((int)Math.Ceiling(Math.Log10(Math.Max(us, 1e-3)) * BucketsPerDecade - 1e-9), LowestBucket, HighestBucket);
}
