using Simulator.Metrics;

namespace Simulator.CostModel;

/// <summary>
/// The closed form's sums for a standing batch whose launch has one block per (request, head) (<see cref="StandingShape.OneBlockPerHead"/>):
/// what <see cref="AttentionMakespan.ClosedFormNs"/> reads from the batch's blocks, per pass, without the blocks. Pass j gives every
/// member its length at pass 0 plus j, so every block grows by a token a pass: the k-th largest block and the sums capped at it, and
/// the wave bound's smallest blocks, shift by known amounts; each request's launch-order bound is a line in j whose slope grows along
/// the batch, so their maximum is walked on the upper envelope, built once. Built in O(requests) (a selection, a prefix walk, the
/// envelope); a pass costs O(1). Reused: building allocates nothing once its arrays have grown.
/// </summary>
public sealed class PerHeadStandingSums : IStandingLaunchSums
{
    private readonly AttentionBlocks waveBlocks = new(1, int.MaxValue, 1);
    private StandingShape shape;
    private int count;
    private int[] lengths0 = [];
    private int[] scratch = [];
    private long[] drained0 = [];
    private long[] drainRate = [];
    private int[] hull = [];
    private int hullCount, hullAt, lines;
    private long cappedAtLeast, cappedBelow0, below, waves, waveTokens0;
    private int kth0;

    // The lines' intercepts and slopes, computed once per batch: the envelope's construction compares each several times.
    private double[] intercepts = [];
    private double[] slopes = [];

    private int KvHeads => shape.KvHeads;

    /// <summary>Builds the sums of a batch whose members hold <paramref name="lengths0"/> KV tokens in its first pass (pass 0).</summary>
    public void Start(ReadOnlySpan<int> lengths0, StandingShape shape)
    {
        if (!shape.OneBlockPerHead) throw new ArgumentException("The launch splits KV into partitions.", nameof(shape));
        this.shape = shape;
        count = lengths0.Length;
        Grow(ref this.lengths0, count);
        lengths0.CopyTo(this.lengths0);
        StartSharedSums();
        StartLaunchOrder();
        StartWaves();
    }

    /// <summary>The k-th largest request and the sums capped at it (k from the blocks that saturate HBM).</summary>
    private void StartSharedSums()
    {
        kth0 = 0;
        cappedAtLeast = cappedBelow0 = below = 0;
        if (shape.SaturatingBlocks > (long)count * KvHeads) return;
        Grow(ref scratch, count);
        Array.Copy(lengths0, scratch, count);
        kth0 = OrderStatistics.SelectInPlace(scratch.AsSpan(0, count), count - (int)((shape.SaturatingBlocks + KvHeads - 1) / KvHeads));
        for (var r = 0; r < count; r++)
            if (lengths0[r] >= kth0) cappedAtLeast++;
            else
            {
                cappedBelow0 += lengths0[r];
                below++;
            }
    }

    /// <summary>The wave bound's blocks per slot and their smallest sum at pass 0 (every block grows by a token a pass, so the sum by <c>waves</c>).</summary>
    private void StartWaves()
    {
        waves = AttentionMakespan.Waves((long)count * KvHeads, shape.Slots);
        waveTokens0 = 0;
        if (waves <= 1) return;
        waveBlocks.Configure(KvHeads, int.MaxValue, shape.BytesPerToken);
        for (var r = 0; r < count; r++) waveBlocks.Add(lengths0[r]);
        waveTokens0 = waveBlocks.SmallestBlocksTokens(waves);
    }

    /// <summary>
    /// Request r's launch-order bound at pass j is PerHeadTermNs(drained0 + drainRate * j, lengths0[r] + j): a line
    /// in j whose slope grows with r (drainRate = mustDrain grows by the head count), so their maximum is walked on
    /// the upper envelope, built once here.
    /// </summary>
    private void StartLaunchOrder()
    {
        var firstWave = AttentionMakespan.FirstWaveBound(KvHeads, shape.Slots);
        lines = Math.Max(0, count - firstWave);
        Grow(ref drained0, lines);
        Grow(ref drainRate, lines);
        Grow(ref hull, lines);
        long prefix = 0;
        var d = 0;
        // Request r (from the first wave on) must drain (r + 1) heads - slots blocks, whole requests of them: that over heads is
        // r + 1 - ceil(slots / heads), as it is positive (one division for the batch, not one per request).
        var wholeBehind = (shape.Slots + KvHeads - 1) / KvHeads;
        for (var i = 0; i < lines; i++)
        {
            var r = firstWave + i;
            var mustDrain = (long)(r + 1) * KvHeads - shape.Slots;
            var drained = Math.Min(r, r + 1 - wholeBehind);
            while (d < drained) prefix += lengths0[d++];
            var partialBlocks = mustDrain - (long)d * KvHeads;
            drained0[i] = KvHeads * prefix + partialBlocks * lengths0[d];
            drainRate[i] = KvHeads * (long)d + partialBlocks;
        }
        CacheLines();
        hullCount = hullAt = 0;
        for (var i = 0; i < lines; i++)
        {
            while (hullCount >= 2)
            {
                int a = hull[hullCount - 2], b = hull[hullCount - 1];
                // b is never the highest when i overtakes a no later than b does.
                if ((intercepts[a] - intercepts[i]) * (slopes[b] - slopes[a]) <= (intercepts[a] - intercepts[b]) * (slopes[i] - slopes[a])) hullCount--;
                else break;
            }
            hull[hullCount++] = i;
        }
    }

    private int FirstLine => count - lines;

    private void CacheLines()
    {
        Grow(ref intercepts, lines);
        Grow(ref slopes, lines);
        for (var i = 0; i < lines; i++)
        {
            intercepts[i] = drained0[i] * shape.BytesPerToken / shape.Aggregate + lengths0[FirstLine + i] * shape.BytesPerToken / shape.PerBlock;
            slopes[i] = drainRate[i] * shape.BytesPerToken / shape.Aggregate + shape.BytesPerToken / shape.PerBlock;
        }
    }

    /// <summary>Block tokens capped at the k-th largest block, and that cap, in pass <paramref name="pass"/> (cap 0: fewer blocks than k).</summary>
    public (long CappedBlockTokens, int CapTokens) Capped(int pass)
    {
        if (cappedAtLeast == 0) return (0, 0);
        var cap = kth0 + pass;
        return (KvHeads * (cappedAtLeast * cap + cappedBelow0 + below * pass), cap);
    }

    /// <summary>The wave bound of pass <paramref name="pass"/> (0 when every block gets a slot at once).</summary>
    public double WavesNs(int pass) =>
        waves <= 1 ? 0 : AttentionMakespan.WavesNs(waveTokens0 + waves * pass, shape.BytesPerToken, shape.PerBlock);

    /// <summary>The largest launch-order bound of pass <paramref name="pass"/> (0 when no request waits for a wave); passes are asked in order.</summary>
    public double LaunchOrderNs(int pass)
    {
        if (hullCount == 0) return 0;
        double j = pass;
        while (hullAt + 1 < hullCount && intercepts[hull[hullAt + 1]] + slopes[hull[hullAt + 1]] * j >= intercepts[hull[hullAt]] + slopes[hull[hullAt]] * j)
            hullAt++;
        // The exact bound of the envelope's line and its neighbours: a near tie cannot pick a different value.
        var best = 0.0;
        for (var k = Math.Max(0, hullAt - 1); k <= Math.Min(hullCount - 1, hullAt + 1); k++)
        {
            var i = hull[k];
            best = Math.Max(best, AttentionMakespan.PerHeadTermNs(drained0[i] + drainRate[i] * pass, lengths0[FirstLine + i] + pass,
                shape.BytesPerToken, shape.Bandwidth, shape.PerBlock, shape.Slots));
        }
        return best;
    }

    private static void Grow<T>(ref T[] array, int size)
    {
        if (array.Length < size) array = new T[Math.Max(size, 2 * array.Length)];
    }
}
