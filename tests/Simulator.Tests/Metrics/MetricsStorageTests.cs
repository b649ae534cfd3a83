using System.Diagnostics;
using MathNet.Numerics.Statistics;
using Simulator.Metrics;

namespace Simulator.Tests.Metrics;

public sealed class MetricsStorageTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(100)]
    [InlineData(10_007)]
    public void Percentiles_By_Selection_Should_Equal_Those_Of_A_Full_Sort_Bit_For_Bit(int n)
    {
        // Given values with many ties (pass times repeat) and some distinct ones
        var random = new Random(n);
        for (var trial = 0; trial < 20; trial++)
        {
            var values = Enumerable.Range(0, n).Select(_ => random.Next(3) == 0 ? random.NextDouble() : random.Next(5) * 0.25).ToArray();

            // When
            var fast = Distribution.Of(values);

            // Then it equals the R-7 percentiles of the sorted array exactly
            var sorted = values.Order().ToArray();
            double Q(double tau) => SortedArrayStatistics.QuantileCustom(sorted, tau, QuantileDefinition.R7);
            Assert.Equal(new Distribution(n, values.Average(), Q(0.5), Q(0.9), Q(0.99)), fast);
        }
    }

    [Fact]
    public void Selection_Should_Put_Each_Asked_Position_In_Sorted_Place()
    {
        var random = new Random(7);
        var data = Enumerable.Range(0, 5000).Select(_ => (double)random.Next(100)).ToArray();
        var sorted = data.Order().ToArray();
        int[] positions = [0, 1, 2499, 2500, 4499, 4949, 4950, 4999];

        OrderStatistics.Select(data.AsSpan(), positions);

        foreach (var p in positions) Assert.Equal(sorted[p], data[p]);
        Assert.Equal(sorted, data.Order().ToArray()); // a permutation of the input
    }

    [Fact]
    public void A_Chunked_List_Should_Hold_Every_Item_In_Order_Across_Chunks()
    {
        var list = new ChunkedList<long>(chunkBytes: 64); // 8 items a chunk
        for (var i = 0L; i < 1000; i++) list.Add(i * i);

        Assert.Equal(1000, list.Count);
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => (long)i * i), list);
        Assert.Equal(list.ToArray(), list.ToList());
        Assert.Equal(999L * 999, list[999]);
        Assert.Throws<ArgumentOutOfRangeException>(() => list[1000]);
    }

    [Fact]
    public void Decision_Times_Should_Count_Exactly_And_Bound_Percentiles_By_Their_Bucket()
    {
        // Given decisions of 0.5 us (900 of them), 50 us (90) and 8 ms (10)
        var times = new DecisionTimes();
        long Ticks(double us) => (long)Math.Round(us * Stopwatch.Frequency / 1e6);
        for (var i = 0; i < 900; i++) times.Add(Ticks(0.5));
        for (var i = 0; i < 90; i++) times.Add(Ticks(50));
        for (var i = 0; i < 10; i++) times.Add(Ticks(8000));

        // Then counts, mean, max and the share under 5 ms are exact
        Assert.Equal(1000, times.Count);
        Assert.Equal((900 * 0.5 + 90 * 50 + 10 * 8000) / 1000, times.MeanUs, 6);
        Assert.Equal(8000, times.MaxUs, 6);
        Assert.Equal(990, times.Under5Ms);
        // and each percentile is its bucket's upper bound: at or above the value, within one bucket (12%)
        foreach (var (q, exact) in new[] { (0.5, 0.5), (0.9, 0.5), (0.95, 50.0), (0.99, 50.0), (1.0, 8000.0) })
        {
            var p = times.Percentile(q);
            Assert.InRange(p, exact * (1 - 1e-9), exact * Math.Pow(10, 1.0 / DecisionTimes.BucketsPerDecade) * (1 + 1e-9));
        }
        Assert.Equal(1000, times.Histogram().Sum(b => b.Count));
        Assert.Equal(3, times.Histogram().Count);
    }
}
