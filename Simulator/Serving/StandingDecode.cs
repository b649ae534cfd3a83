using Policies.Core;
using Policies.Memory;
using Simulator.CostModel;
using Simulator.Metrics;

namespace Simulator.Serving;

/// <summary>
/// Lazy per-request state for a GPU whose policy repeats the same decode batch
/// (<see cref="IBatchPolicy.RepeatablePasses"/>): pass j of the standing batch gives every member
/// KV length (length at entry + j), so the requests are not advanced, the batch is not re-formed and
/// the cost model's sums are not recomputed per pass. A pass costs O(1): members crossing into a new KV
/// block are counted by the pass residue (mod the block size) at which they cross, and their blocks are
/// taken as a count (<see cref="KvBlockManager.Owe"/>) and handed to their tables when the batch ends.
/// <para>The standing batch ends (<see cref="Exit"/>, O(batch): each request gets its passes) before a
/// pass in which a member would finish, before a pass whose block crossings the free blocks cannot cover
/// (the policy would preempt), and when anything external reaches the GPU. The passes it runs are those the
/// policy would have formed; their costs are those <see cref="ForwardCostModel.Estimate"/> gives, from the
/// same integer sums through the same formulas (<see cref="AttentionMakespan"/>); tested byte for byte.</para>
/// </summary>
public sealed class StandingDecode
{
    private readonly Request[] members;
    private readonly int[] context0;
    /// <summary>Members crossing into a new block at passes of each residue mod the block size (those already crossing every block size passes).</summary>
    private readonly int[] crossing;
    /// <summary>Members whose first crossing is a block size or more away: (first pass, residue), by first pass.</summary>
    private readonly (int First, int Residue)[] late;
    private int lateAt;
    private readonly int blockSize;
    private readonly int horizon;

    // Attention sums at pass 0, and how they grow per pass (every member's KV grows by one token).
    private readonly long total0;
    private readonly int longest0;
    private readonly int kth0;
    private readonly long cappedAtLeast;
    private readonly long cappedBelow0;
    private readonly long below;

    // Launch-order bounds: the upper envelope of lines (request r's bound grows linearly in the pass number).
    private readonly int[] hull;
    private readonly long[] drained0;
    private readonly long[] drainRate;
    private int hullAt;

    private StandingDecode(Request[] members, KvBlockManager blocks, int repeatable, int kvHeads, long saturating, double bytesPerToken,
        double bandwidth, double perBlock, int slots)
    {
        this.members = members;
        var n = members.Length;
        blockSize = blocks.BlockSizeTokens;
        context0 = new int[n];
        var remaining = int.MaxValue;
        crossing = new int[blockSize];
        var lateCrossers = new List<(int, int)>();
        for (var r = 0; r < n; r++)
        {
            var request = members[r];
            var computed = request.ComputedTokens;
            context0[r] = computed + 1;
            remaining = Math.Min(remaining, request.OutputTokens - request.GeneratedTokens);
            // Pass j reserves computed + j + 1 tokens: the first pass needing a new block is where that
            // exceeds the blocks held, then every block size passes.
            var held = blocks.BlocksOf(request).Count;
            var first = (int)Math.Min(int.MaxValue, Math.Max(0, (long)held * blockSize - computed));
            if (first < blockSize) crossing[first]++;
            else lateCrossers.Add((first, first % blockSize));
        }
        late = [.. lateCrossers.OrderBy(c => c.Item1)];
        // A member with R tokens to go finishes in its R-th pass: run R - 1 standing passes, the R-th as a normal one;
        // and no more than the policy vouches for.
        horizon = Math.Min(remaining - 1, repeatable);

        foreach (var c in context0) total0 += c;
        longest0 = context0.Max();
        KvHeads = kvHeads;
        BytesPerToken = bytesPerToken;
        if (saturating <= (long)n * KvHeads)
        {
            var sorted = (int[])context0.Clone();
            kth0 = OrderStatistics.SelectInPlace(sorted.AsSpan(), n - (int)((saturating + KvHeads - 1) / KvHeads));
            foreach (var c in context0)
                if (c >= kth0) cappedAtLeast++;
                else
                {
                    cappedBelow0 += c;
                    below++;
                }
        }

        // Request r's launch-order bound at pass j: PerHeadTermNs(drained0[r] + drainRate[r] * j, context0[r] + j).
        var firstWave = AttentionMakespan.FirstWaveBound(KvHeads, slots);
        var lines = Math.Max(0, n - firstWave);
        drained0 = new long[lines];
        drainRate = new long[lines];
        long prefix = 0;
        var d = 0;
        for (var i = 0; i < lines; i++)
        {
            var r = firstWave + i;
            var mustDrain = (long)(r + 1) * KvHeads - slots;
            var drained = (int)Math.Min(r, mustDrain / KvHeads);
            while (d < drained) prefix += context0[d++];
            var partialBlocks = mustDrain - (long)d * KvHeads;
            drained0[i] = KvHeads * prefix + partialBlocks * context0[d];
            drainRate[i] = KvHeads * (long)d + partialBlocks; // = mustDrain: every drained block token grows by one per pass
        }
        this.firstWave = firstWave;
        var aggregate = AttentionMakespan.Aggregate(bandwidth, perBlock, slots);
        double Intercept(int i) => drained0[i] * bytesPerToken / aggregate + context0[firstWave + i] * bytesPerToken / perBlock;
        double Slope(int i) => drainRate[i] * bytesPerToken / aggregate + bytesPerToken / perBlock;
        // Slopes grow with r (mustDrain grows by the head count): the monotone upper envelope.
        var envelope = new List<int>();
        for (var i = 0; i < lines; i++)
        {
            while (envelope.Count >= 2)
            {
                int a = envelope[^2], b = envelope[^1];
                // b is never the highest when c overtakes a no later than b does.
                if ((Intercept(a) - Intercept(i)) * (Slope(b) - Slope(a)) <= (Intercept(a) - Intercept(b)) * (Slope(i) - Slope(a))) envelope.RemoveAt(envelope.Count - 1);
                else break;
            }
            envelope.Add(i);
        }
        hull = [.. envelope];
        slope = Slope;
        intercept = Intercept;
    }

    private readonly int firstWave;
    private readonly Func<int, double> slope;
    private readonly Func<int, double> intercept;

    public int KvHeads { get; }

    public double BytesPerToken { get; }

    /// <summary>Standing passes run so far.</summary>
    public int Passes { get; private set; }

    public int Count => members.Length;

    /// <summary>KV tokens of the batch in the current pass.</summary>
    public long TotalTokens => total0 + (long)Count * Passes;

    /// <summary>The longest member's KV tokens in the current pass.</summary>
    public int LongestTokens => longest0 + Passes;

    /// <summary>
    /// Starts a standing batch from the batch just completed (its requests, in order) that the policy repeats for
    /// <paramref name="repeatable"/> passes, when it is worth it: null when it would run fewer than <paramref name="minimumPasses"/>.
    /// </summary>
    public static StandingDecode? Enter(ForwardBatch completed, KvBlockManager blocks, ForwardCostModel costModel, int repeatable, int minimumPasses)
    {
        var entries = completed.Entries;
        var remaining = int.MaxValue;
        for (var i = 0; i < entries.Count; i++)
            remaining = Math.Min(remaining, entries[i].Request.OutputTokens - entries[i].Request.GeneratedTokens);
        if (Math.Min(remaining - 1, repeatable) < minimumPasses) return null;
        var members = new Request[entries.Count];
        for (var i = 0; i < members.Length; i++) members[i] = entries[i].Request;
        return costModel.StartStanding((kvHeads, saturating, b, bandwidth, perBlock, slots) =>
            new StandingDecode(members, blocks, repeatable, kvHeads, saturating, b, bandwidth, perBlock, slots));
    }

    /// <summary>Whether the next pass can run standing: no member finishes in it and the free blocks cover its crossings.</summary>
    public bool CanRunNext(KvBlockManager blocks)
    {
        if (Passes >= horizon) return false;
        while (lateAt < late.Length && late[lateAt].First == Passes) crossing[late[lateAt++].Residue]++;
        return crossing[Passes % blockSize] <= blocks.FreeBlocks;
    }

    /// <summary>
    /// Takes the blocks of the members crossing into a new block in the next pass (checked by <see cref="CanRunNext"/>):
    /// as a count the manager owes them until <see cref="Exit"/> (O(1), not one reservation per member).
    /// </summary>
    public void ReserveCrossings(KvBlockManager blocks) => blocks.Owe(crossing[Passes % blockSize]);

    /// <summary>The current pass ran.</summary>
    public void PassDone() => Passes++;

    /// <summary>Ends the batch: every member gets its standing passes' tokens (and the metrics their count) and its owed blocks.</summary>
    public void Exit(MetricsRecorder metrics, KvBlockManager blocks)
    {
        if (Passes == 0) return;
        for (var r = 0; r < members.Length; r++)
        {
            members[r].AdvanceDecodes(Passes);
            metrics.TokensEmittedInBulk(members[r], Passes);
            // The last standing pass held context0 + Passes - 1 tokens.
            blocks.SettleOwed(members[r], context0[r] + Passes - 1);
        }
        if (blocks.OwedBlocks != 0)
            throw new InvalidOperationException($"Standing batch left {blocks.OwedBlocks} KV blocks owed to no request.");
    }

    /// <summary>Block tokens capped at the k-th largest block, and that cap, in the current pass (cap 0: fewer blocks than k).</summary>
    public (long CappedBlockTokens, int CapTokens) Capped()
    {
        if (cappedAtLeast == 0) return (0, 0);
        var cap = kth0 + Passes;
        return (KvHeads * (cappedAtLeast * cap + cappedBelow0 + below * Passes), cap);
    }

    /// <summary>The largest launch-order bound of the current pass (0 when no request waits for a wave).</summary>
    public double LaunchOrderNs(double bandwidth, double perBlock, int slots)
    {
        if (hull.Length == 0) return 0;
        double j = Passes;
        while (hullAt + 1 < hull.Length && intercept(hull[hullAt + 1]) + slope(hull[hullAt + 1]) * j >= intercept(hull[hullAt]) + slope(hull[hullAt]) * j)
            hullAt++;
        // The exact bound of the envelope's line and its neighbours: a near tie cannot pick a different value.
        var best = 0.0;
        for (var k = Math.Max(0, hullAt - 1); k <= Math.Min(hull.Length - 1, hullAt + 1); k++)
        {
            var i = hull[k];
            best = Math.Max(best, AttentionMakespan.PerHeadTermNs(drained0[i] + drainRate[i] * Passes, context0[firstWave + i] + Passes,
                BytesPerToken, bandwidth, perBlock, slots));
        }
        return best;
    }
}
