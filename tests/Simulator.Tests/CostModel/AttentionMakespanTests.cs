using Simulator.CostModel;

namespace Simulator.Tests.CostModel;

/// <summary>
/// The closed form against the exact fluid schedule of thread blocks over SM slots, with the
/// H100 catalog parameters (3,000 bytes/ns HBM, 30 bytes/ns per block, 132 x 4 slots) and
/// OPT-13B's 40 KV heads of 512 bytes per token.
/// </summary>
public sealed class AttentionMakespanTests
{
    private const double Bandwidth = 3000, PerBlock = 30;
    private const int Slots = 528;

    /// <summary>The tolerance the closed form is held to (relative to the exact makespan).</summary>
    private const double Tolerance = 0.10;

    private static AttentionBlocks Blocks(IEnumerable<int> lengths, int partition = int.MaxValue)
    {
        var blocks = new AttentionBlocks(40, partition, 512);
        foreach (var l in lengths) blocks.Add(l);
        return blocks;
    }

    public static TheoryData<string, int> Cases() => new()
    {
        { "uniform", int.MaxValue }, { "uniform", 512 },
        { "skewed", int.MaxValue }, { "skewed", 512 },
        { "outlier-first", int.MaxValue }, { "outlier-last", int.MaxValue }, { "outlier-middle", int.MaxValue },
        { "outlier-last", 512 }, { "bimodal", int.MaxValue }, { "tiny-batch", int.MaxValue },
    };

    private static IEnumerable<int> Lengths(string shape, int batch, Random random) => shape switch
    {
        "uniform" => Enumerable.Range(0, batch).Select(_ => random.Next(200, 2000)),
        "skewed" => Enumerable.Range(0, batch).Select(_ => (int)Math.Min(60_000, Math.Exp(random.NextDouble() * 2.5 + random.NextDouble() * 4 + 3))),
        "outlier-first" => [8000, .. Enumerable.Range(0, batch - 1).Select(_ => random.Next(300, 700))],
        "outlier-last" => [.. Enumerable.Range(0, batch - 1).Select(_ => random.Next(300, 700)), 8000],
        "outlier-middle" => Enumerable.Range(0, batch).Select(i => i == batch / 2 ? 16_000 : random.Next(300, 700)),
        "bimodal" => Enumerable.Range(0, batch).Select(_ => random.NextDouble() < 0.9 ? random.Next(100, 1000) : random.Next(4000, 8000)),
        "tiny-batch" => Enumerable.Range(0, Math.Min(batch, 3)).Select(_ => random.Next(1, 20_000)),
        _ => throw new ArgumentException(shape),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Closed_Form_Should_Stay_Within_Tolerance_Of_The_Exact_Schedule(string shape, int partition)
    {
        var random = new Random(shape.Length * 31 + partition % 97);
        foreach (var batch in new[] { 1, 4, 13, 16, 32, 64, 128, 256 })
        {
            var blocks = Blocks(Lengths(shape, batch, random), partition);
            var exact = AttentionMakespan.ExactNs(blocks, Bandwidth, PerBlock, Slots);
            var closed = AttentionMakespan.ClosedFormNs(blocks, Bandwidth, PerBlock, Slots);
            Assert.True(Math.Abs(closed - exact) <= Tolerance * exact,
                $"{shape}, batch {batch}, partition {partition}: closed form {closed:F0} ns vs exact {exact:F0} ns ({(closed - exact) / exact:P1})");
        }
    }

    [Fact]
    public void Exact_Should_Match_Hand_Computed_Schedules()
    {
        // Two equal blocks in two slots at 10 bytes/ns each under 100 bytes/ns: both finish at 100 ns.
        var two = new AttentionBlocks(1, int.MaxValue, 1);
        two.Add(1000);
        two.Add(1000);
        Assert.Equal(100, AttentionMakespan.ExactNs(two, 100, 10, 2), 6);

        // Three blocks of 1000 bytes, one slot: strictly sequential, 3 x 100 ns.
        var three = new AttentionBlocks(1, int.MaxValue, 1);
        for (var i = 0; i < 3; i++) three.Add(1000);
        Assert.Equal(300, AttentionMakespan.ExactNs(three, 100, 10, 1), 6);

        // Bandwidth-bound: 4 blocks of 1000 bytes in 4 slots sharing 20 bytes/ns: 200 ns.
        var four = new AttentionBlocks(1, int.MaxValue, 1);
        for (var i = 0; i < 4; i++) four.Add(1000);
        Assert.Equal(200, AttentionMakespan.ExactNs(four, 20, 10, 4), 6);
    }

    [Fact]
    public void Exact_Should_Never_Beat_The_Lower_Bounds()
    {
        var random = new Random(5);
        for (var trial = 0; trial < 200; trial++)
        {
            var blocks = Blocks(Enumerable.Range(0, random.Next(1, 100)).Select(_ => random.Next(1, 10_000)));
            var exact = AttentionMakespan.ExactNs(blocks, Bandwidth, PerBlock, Slots);
            Assert.True(exact >= AttentionMakespan.BalancedNs(blocks, Bandwidth, PerBlock, Slots) * (1 - 1e-12));
            Assert.True(exact >= blocks.LongestBlockBytes / PerBlock * (1 - 1e-12));
        }
    }

    [Fact]
    public void An_Outlier_Launched_Last_Should_Finish_Later_Than_One_Launched_First_In_The_Exact_Schedule()
    {
        // 64 requests x 40 heads = 2,560 blocks in 528 slots: the outlier launched last starts only after
        // most short blocks drained. The closed form, driven by the shared-bandwidth bound here, does not
        // see the launch order; it stays within the tolerance of both orders.
        var shorts = Enumerable.Repeat(500, 63).ToArray();
        var first = Blocks([8000, .. shorts]);
        var last = Blocks([.. shorts, 8000]);

        var exactFirst = AttentionMakespan.ExactNs(first, Bandwidth, PerBlock, Slots);
        var exactLast = AttentionMakespan.ExactNs(last, Bandwidth, PerBlock, Slots);

        Assert.True(exactLast > exactFirst * 1.05, $"last {exactLast:F0} ns vs first {exactFirst:F0} ns");
        foreach (var (blocks, exact) in new[] { (first, exactFirst), (last, exactLast) })
            Assert.InRange(AttentionMakespan.ClosedFormNs(blocks, Bandwidth, PerBlock, Slots), exact * (1 - Tolerance), exact * (1 + Tolerance));
    }

    [Fact]
    public void Kth_Largest_Block_And_Capped_Tokens_Should_Match_The_Sorted_Block_Sizes()
    {
        // Given random launches, with and without partitions (whole partitions outnumbering k or not), ties on purpose
        var random = new Random(12);
        for (var trial = 0; trial < 300; trial++)
        {
            var heads = random.Next(1, 41);
            var partition = random.NextDouble() < 0.3 ? int.MaxValue : random.Next(1, 5) * 128;
            var blocks = new AttentionBlocks(heads, partition, 512);
            var sizes = new List<int>();
            for (var r = random.Next(1, 50); r > 0; r--)
            {
                var length = random.NextDouble() < 0.3 ? 1024 : random.Next(1, 4000);
                blocks.Add(length);
                var parts = partition == int.MaxValue ? 1 : (length + partition - 1) / partition;
                for (var h = 0; h < heads; h++)
                    for (var p = 0; p < parts; p++) sizes.Add(p == parts - 1 ? length - p * Math.Min(partition, length) : partition);
            }
            sizes.Sort((a, b) => b.CompareTo(a));
            // Then the k-th largest and the tokens capped at it equal the brute-force ones, for every k around the counts
            foreach (var k in new long[] { 1, heads, heads + 1, 132, sizes.Count / 3, sizes.Count - 1, sizes.Count, sizes.Count + 1 })
            {
                var expected = k >= 1 && k <= sizes.Count ? sizes[(int)k - 1] : 0;
                Assert.Equal(expected, blocks.KthLargestBlockTokens(k));
                Assert.Equal(sizes.Sum(x => (long)Math.Min(x, expected)), blocks.TokensCappedAt(expected));
            }
        }
    }

    [Fact]
    public void Smallest_Blocks_Should_Sum_The_Sorted_Block_Sizes()
    {
        // Given random launches, with and without partitions, and every w from 1 past the block count
        var random = new Random(11);
        for (var trial = 0; trial < 200; trial++)
        {
            var heads = random.Next(1, 9);
            var partition = random.NextDouble() < 0.5 ? int.MaxValue : random.Next(16, 600);
            var blocks = new AttentionBlocks(heads, partition, 512);
            var sizes = new List<long>();
            for (var r = random.Next(1, 30); r > 0; r--)
            {
                var length = random.NextDouble() < 0.3 ? 700 : random.Next(1, 3000); // ties on purpose
                blocks.Add(length);
                var parts = partition == int.MaxValue ? 1 : (length + partition - 1) / partition;
                for (var h = 0; h < heads; h++)
                    for (var p = 0; p < parts; p++) sizes.Add(p == parts - 1 ? length - (long)p * Math.Min(partition, length) : partition);
            }
            sizes.Sort();
            // Then the sum of the w smallest equals the brute-force sum
            foreach (var w in new long[] { 1, heads, heads + 1, sizes.Count / 2, sizes.Count - 1, sizes.Count, sizes.Count + 5 })
                Assert.Equal(sizes.Take((int)Math.Max(0, Math.Min(w, sizes.Count))).Sum(), blocks.SmallestBlocksTokens(w));
        }
    }

    [Fact]
    public void Equal_Blocks_In_Several_Waves_Should_Take_Whole_Waves_In_The_Closed_Form()
    {
        // 1,000 equal blocks on 528 slots at 5 bytes/ns each (528 x 5 < 3,000, so HBM never binds): two waves, the second a
        // partial one, which the launch-order term alone would let start before the first has finished.
        const double slow = 5;
        var blocks = Blocks(Enumerable.Repeat(1000, 25));
        var exact = AttentionMakespan.ExactNs(blocks, Bandwidth, slow, Slots);

        Assert.Equal(2 * 1000 * 512 / slow, exact, 6);
        Assert.Equal(exact, AttentionMakespan.ClosedFormNs(blocks, Bandwidth, slow, Slots), 6);
    }
}
