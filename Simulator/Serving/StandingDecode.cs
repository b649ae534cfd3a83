using Policies.Core;
using Policies.Memory;
using Simulator.CostModel;
using Simulator.Metrics;


namespace Simulator.Serving;

/// <summary>
/// Lazy per-request state for a GPU whose policy repeats the same decode batch
/// (<see cref="IRepeatableSchedule.RepeatablePasses"/>): pass j of the standing batch gives every member
/// KV length (length at entry + j), so the requests are not advanced, the batch is not re-formed and
/// the cost model's sums are not recomputed per pass. A pass costs O(1): the closed form's sums (total,
/// longest, k-th largest, capped at it) shift by known amounts; the launch-order bound is a maximum of
/// lines in j whose slopes grow along the batch, walked on their upper envelope; members crossing into a
/// new KV block are grouped by the pass residue (mod the block size) at which they cross, so a pass
/// reserves the blocks of exactly the members that cross in it (a block size's share of the batch), as the
/// policy's own decision would, so every table holds what it would pass by pass (with block ids, the members
/// crossing in one pass may take theirs in another order).
/// <para>The batch ends (<see cref="Exit"/>, O(batch): each request gets its passes) after the passes the policy
/// vouched for, before a pass whose block crossings the free blocks cannot cover (the policy would preempt), and
/// when anything external reaches the GPU that the policy does not take beside it; requests that join it restart it
/// (<see cref="Rejoin"/>); the pass in which a member finishes is its last, handed back as the policy's batch
/// (<see cref="Form"/>) for the serving loop to complete. The cost model's sums are built for the first pass
/// priced (a batch ended before it never builds them). Its passes are
/// those the policy would have formed, and their costs those <see cref="ForwardCostModel.Estimate"/> gives,
/// from the same integer sums through the same formulas (<see cref="AttentionMakespan"/>); tested byte for byte.
/// One instance per GPU, reused: starting a batch allocates nothing once its arrays have grown. The serving loop
/// reaches it only through <see cref="StandingBatches"/>.</para>
/// </summary>
public sealed class StandingDecode(int blockSize, IStandingCosts? costs = null) : IStandingSums
{
    /// <summary>Standing batches shorter than this are not worth starting (starting one walks the batch once).</summary>
    public const int MinimumStandingPasses = 2;

    private StandingShape shape;
    private readonly AttentionBlocks waveBlocks = new(1, int.MaxValue, 1);

    private Request[] members = [];
    private int[] context0 = [];
    private int[] scratch = [];
    private long[] drained0 = [];
    private long[] drainRate = [];
    private int[] hull = [];
    /// <summary>When the members cross into new KV blocks.</summary>
    private readonly BlockCrossings crossings = new(blockSize);

    private int horizon, hullCount, hullAt, lines;
    private long total0, cappedAtLeast, cappedBelow0, below, waves, waveTokens0;
    private int longest0, kth0;

    public bool Active { get; private set; }

    /// <summary>The shape the current batch's passes are priced with.</summary>
    public StandingShape Shape => shape;

    /// <summary>Whether the passes are batch switches, as the pass the batch repeats was.</summary>
    public bool IsBatchSwitch { get; private set; }

    public int KvHeads => shape.KvHeads;

    public double BytesPerToken => shape.BytesPerToken;

    /// <summary>Passes the current batch may stand at most (the policy's word, its members' remaining tokens, its shape's limit).</summary>
    public int Horizon => horizon;

    /// <summary>Standing passes run so far.</summary>
    public int Passes { get; private set; }

    public int Count { get; private set; }

    /// <summary>KV tokens of the batch in the current pass.</summary>
    public long TotalTokens => total0 + (long)Count * Passes;

    /// <summary>The longest member's KV tokens in the current pass.</summary>
    public int LongestTokens => longest0 + Passes;

    /// <summary>Starts a standing batch priced by this GPU's costs (false when it cannot stand, or stands fewer than <see cref="MinimumStandingPasses"/>).</summary>
    public bool Start(ForwardBatch completed, KvBlockManager blocks, int repeatable) =>
        Start(completed, blocks, repeatable, MinimumStandingPasses, (costs ?? throw new InvalidOperationException("This standing batch was given no costs.")).StandingShapeFor);

    /// <summary>
    /// Starts a standing batch from the batch just completed (its requests that did not finish in it, in order) that the policy repeats for
    /// <paramref name="repeatable"/> passes; false (and inactive) when it would run fewer than <paramref name="minimumPasses"/>,
    /// or when <paramref name="shapeFor"/> (requests, longest, total KV tokens of the first pass) has no standing shape for it.
    /// </summary>
    public bool Start(ForwardBatch completed, KvBlockManager blocks, int repeatable, int minimumPasses, Func<int, int, long, StandingShape?> shapeFor)
    {
        if (Active) throw new InvalidOperationException("A standing batch is already running on this GPU.");
        var entries = completed.Entries;
        // The members are the requests of the completed pass that did not finish in it (a policy may repeat a pass without them).
        Grow(ref next, entries.Count);
        var n = 0;
        for (var i = 0; i < entries.Count; i++)
            if (entries[i].Request.Phase != RequestPhase.Finished) next[n++] = entries[i].Request;
        return StartWith(n, completed.IsBatchSwitch, blocks, repeatable, minimumPasses, shapeFor);
    }

    /// <summary>
    /// Requests joined the standing batch's at this pass (their KV arrived, and the policy's decision is the batch followed by
    /// them, one decode token each: <see cref="IRepeatableSchedule.PullsBesideRepeat"/>): the batch ends, every member given its
    /// tokens, and a new one starts with the joiners appended, each joiner's next token in its first pass. False (and inactive)
    /// when that batch cannot stand; the policy's next decision is then the same batch, formed pass by pass.
    /// </summary>
    public bool Rejoin(IReadOnlyList<BatchEntry> joiners, KvBlockManager blocks)
    {
        if (!Active) throw new InvalidOperationException("No standing batch runs on this GPU.");
        var n = Count + joiners.Count;
        Grow(ref next, n);
        Array.Copy(members, next, Count);
        for (var i = 0; i < joiners.Count; i++) next[Count + i] = joiners[i].Request;
        var repeatable = policyWord == int.MaxValue ? int.MaxValue : policyWord - Passes;
        var batchSwitch = IsBatchSwitch;
        Exit();
        return StartWith(n, batchSwitch, blocks, repeatable, MinimumStandingPasses,
            (costs ?? throw new InvalidOperationException("This standing batch was given no costs.")).StandingShapeFor);
    }

    /// <summary>The next batch's members (from the completed batch, or the members and the joiners), in order.</summary>
    private Request[] next = [];

    /// <summary>The pass in which the first members finish (their last token): the batch's last.</summary>
    private int finishPass;

    /// <summary>Whether members finish in the current pass (it is then the batch's last: <see cref="Form"/> it once it ran).</summary>
    public bool FinishesThisPass => Passes == finishPass;

    /// <summary>
    /// Ends the batch after the pass in which members finish, as the pass the policy formed: every member is given the standing
    /// passes before it, and <paramref name="into"/> lists them in order, one decode token each, as that pass's batch
    /// (for the serving loop to complete as it completes any pass: tokens, finishes, the policy's bookkeeping).
    /// </summary>
    public ForwardBatch Form(ForwardBatch into)
    {
        if (!FinishesThisPass) throw new InvalidOperationException("Only the pass in which members finish is formed.");
        into.Clear();
        into.IsBatchSwitch = IsBatchSwitch;
        var passes = Passes;
        for (var r = 0; r < Count; r++)
        {
            if (passes > 0) members[r].AdvanceDecodes(passes);
            into.Add(members[r], 1);
        }
        Passes = 0;
        Exit();
        return into;
    }

    /// <summary>The passes the policy vouched for when the batch started.</summary>
    private int policyWord;

    /// <summary>
    /// Members that had emitted fewer than two tokens when the batch started (a request that joined it, whose first pass here emits
    /// its second token, or its first when the prefill GPU handed it on before its last prompt token), and how many they had.
    /// </summary>
    private (Request Request, int Generated)[] early = [];
    private int earlyCount;

    /// <summary>
    /// The members that emit their first or second token in the current pass, and which (1 or 2): what a pass formed request by
    /// request records per token, and a standing pass must record for them.
    /// </summary>
    public IEnumerable<(Request Request, int Token)> EarlyTokensThisPass()
    {
        for (var i = 0; i < earlyCount; i++)
            if (early[i].Generated + Passes + 1 <= 2) yield return (early[i].Request, early[i].Generated + Passes + 1);
    }

    /// <summary>Whether some member emits its first or second token in the current pass.</summary>
    public bool HasEarlyTokensThisPass => earlyCount > 0 && Passes <= 1;

    private bool StartWith(int n, bool batchSwitch, KvBlockManager blocks, int repeatable, int minimumPasses, Func<int, int, long, StandingShape?> shapeFor)
    {
        var remaining = int.MaxValue;
        int longest = 0;
        long total = 0;
        for (var i = 0; i < n; i++)
        {
            var request = next[i];
            remaining = Math.Min(remaining, request.OutputTokens - request.GeneratedTokens);
            var length = request.ComputedTokens + 1;
            longest = Math.Max(longest, length);
            total += length;
        }
        // A member with R tokens to go finishes in its R-th pass: the batch stands through it (the policy decided it before anything
        // finished) and is then formed (Form) for the pass's completion; and no more than the policy vouches for.
        horizon = Math.Min(remaining, repeatable);
        finishPass = remaining - 1;
        if (n == 0 || horizon < minimumPasses) return Abandon(n);
        if (shapeFor(n, longest, total) is not { } planned) return Abandon(n);
        // Pass j has the longest at longest + j: the shape holds while that stays within its limit.
        horizon = (int)Math.Min(horizon, (long)planned.LongestLimitTokens - longest + 1);
        if (horizon < minimumPasses) return Abandon(n);
        shape = planned;
        policyWord = repeatable;
        Grow(ref members, n);
        Grow(ref context0, n);
        Count = n;
        Passes = 0;
        IsBatchSwitch = batchSwitch;
        crossings.Start(n);
        total0 = 0;
        longest0 = 0;
        earlyCount = 0;
        for (var r = 0; r < n; r++)
        {
            var request = next[r];
            next[r] = null!;
            members[r] = request;
            var computed = request.ComputedTokens;
            context0[r] = computed + 1;
            total0 += computed + 1;
            longest0 = Math.Max(longest0, computed + 1);
            crossings.Set(r, blocks.HeldBlocks(request), computed);
            if (request.GeneratedTokens <= 1)
            {
                if (earlyCount == early.Length) Array.Resize(ref early, Math.Max(4, 2 * earlyCount));
                early[earlyCount++] = (request, request.GeneratedTokens);
            }
        }
        crossings.Sort();
        // The cost model's sums are built for the first pass priced (a batch that something ends before it never needs them).
        sumsBuilt = false;
        Active = true;
        return true;
    }

    /// <summary>Whether the current batch's sums (<see cref="BuildSums"/>) are built.</summary>
    private bool sumsBuilt;

    private void EnsureSums()
    {
        if (!sumsBuilt) BuildSums();
    }

    /// <summary>The sums the cost model reads: the k-th largest and capped sums, the launch-order envelope and the wave bound, or a split launch's.</summary>
    private void BuildSums()
    {
        if (shape.OneBlockPerHead)
        {
            StartSharedSums();
            StartLaunchOrder();
            StartWaves();
        }
        else StartPartitioned();
        sumsBuilt = true;
    }

    /// <summary>The k-th largest request and the sums capped at it (k from the blocks that saturate HBM).</summary>
    private void StartSharedSums()
    {
        kth0 = 0;
        cappedAtLeast = cappedBelow0 = below = 0;
        if (shape.SaturatingBlocks > (long)Count * KvHeads) return;
        Grow(ref scratch, Count);
        Array.Copy(context0, scratch, Count);
        kth0 = OrderStatistics.SelectInPlace(scratch.AsSpan(0, Count), Count - (int)((shape.SaturatingBlocks + KvHeads - 1) / KvHeads));
        for (var r = 0; r < Count; r++)
            if (context0[r] >= kth0) cappedAtLeast++;
            else
            {
                cappedBelow0 += context0[r];
                below++;
            }
    }

    /// <summary>The wave bound's blocks per slot and their smallest sum at pass 0 (every block grows by a token a pass, so the sum by <c>waves</c>).</summary>
    private void StartWaves()
    {
        waves = AttentionMakespan.Waves((long)Count * KvHeads, shape.Slots);
        waveTokens0 = 0;
        if (waves <= 1) return;
        waveBlocks.Configure(KvHeads, int.MaxValue, shape.BytesPerToken);
        for (var r = 0; r < Count; r++) waveBlocks.Add(context0[r]);
        waveTokens0 = waveBlocks.SmallestBlocksTokens(waves);
    }

    /// <summary>The wave bound of the current pass (0 when every block gets a slot at once).</summary>
    public double WavesNs() => Partitioned is { } split ? split.WavesNs(Passes)
        : waves <= 1 ? 0 : AttentionMakespan.WavesNs(waveTokens0 + waves * Passes, shape.BytesPerToken, shape.PerBlock);

    /// <summary>
    /// Request r's launch-order bound at pass j is PerHeadTermNs(drained0 + drainRate * j, context0[r] + j): a line
    /// in j whose slope grows with r (drainRate = mustDrain grows by the head count), so their maximum is walked on
    /// the upper envelope, built once here.
    /// </summary>
    private void StartLaunchOrder()
    {
        var firstWave = AttentionMakespan.FirstWaveBound(KvHeads, shape.Slots);
        lines = Math.Max(0, Count - firstWave);
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
            while (d < drained) prefix += context0[d++];
            var partialBlocks = mustDrain - (long)d * KvHeads;
            drained0[i] = KvHeads * prefix + partialBlocks * context0[d];
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
                if ((Intercept(a) - Intercept(i)) * (Slope(b) - Slope(a)) <= (Intercept(a) - Intercept(b)) * (Slope(i) - Slope(a))) hullCount--;
                else break;
            }
            hull[hullCount++] = i;
        }
    }

    private int FirstLine => Count - lines;

    private double Intercept(int i) => intercepts[i];

    private double Slope(int i) => slopes[i];

    // The lines' intercepts and slopes, computed once per batch: the envelope's construction compares each several times.
    private double[] intercepts = [];
    private double[] slopes = [];

    private void CacheLines()
    {
        Grow(ref intercepts, lines);
        Grow(ref slopes, lines);
        for (var i = 0; i < lines; i++)
        {
            intercepts[i] = drained0[i] * shape.BytesPerToken / shape.Aggregate + context0[FirstLine + i] * shape.BytesPerToken / shape.PerBlock;
            slopes[i] = drainRate[i] * shape.BytesPerToken / shape.Aggregate + shape.BytesPerToken / shape.PerBlock;
        }
    }

    /// <summary>Whether the next pass can run standing: within the horizon, and the free blocks cover its crossings.</summary>
    public bool CanRunNext(KvBlockManager blocks)
    {
        if (Passes >= horizon) return false;
        return crossings.CrossingIn(Passes) <= blocks.FreeBlocks;
    }

    /// <summary>The KV blocks the next standing pass reserves: its members crossing into a new block.</summary>
    public int NextPassGrowthBlocks => crossings.CrossingIn(Passes);

    /// <summary>
    /// The next standing pass's cost, its crossing blocks reserved (<see cref="ReserveCrossings"/>); null when it cannot run standing
    /// (<see cref="CanRunNext"/>): the caller then ends the batch.
    /// </summary>
    public IterationCost? TryNextPass(KvBlockManager blocks)
    {
        if (!CanRunNext(blocks)) return null;
        ReserveCrossings(blocks);
        return costs!.EstimateStanding(this);
    }

    /// <summary>The current pass's totals for the metrics (every member a one-token decode).</summary>
    public PassTotals Totals(int kvBlocksUsed, int waiting) =>
        new(Count, 0, Count, TotalTokens, LongestTokens, kvBlocksUsed, waiting, 0, IsBatchSwitch);

    /// <summary>Reserves the blocks of the members crossing into a new block in the next pass (checked by <see cref="CanRunNext"/>): they hold its tokens.</summary>
    public void ReserveCrossings(KvBlockManager blocks)
    {
        foreach (var (_, _, r) in crossings.CrossersIn(Passes)) blocks.Reserve(members[r], context0[r] + Passes);
    }

    /// <summary>The current pass ran.</summary>
    public void PassDone() => Passes++;

    /// <summary>Ends the batch: every member gets its standing passes' tokens (its blocks it got pass by pass).</summary>
    public void Exit()
    {
        Active = false;
        if (Passes > 0)
            for (var r = 0; r < Count; r++) members[r].AdvanceDecodes(Passes);
        Array.Clear(members, 0, Count);
        Array.Clear(early, 0, earlyCount);
        earlyCount = 0;
    }

    /// <summary>Block tokens capped at the k-th largest block, and that cap, in the current pass (cap 0: fewer blocks than k).</summary>
    public (long CappedBlockTokens, int CapTokens) Capped()
    {
        EnsureSums();
        if (Partitioned is { } split) return split.Capped(Passes);
        if (cappedAtLeast == 0) return (0, 0);
        var cap = kth0 + Passes;
        return (KvHeads * (cappedAtLeast * cap + cappedBelow0 + below * Passes), cap);
    }

    /// <summary>The largest launch-order bound of the current pass (0 when no request waits for a wave).</summary>
    public double LaunchOrderNs()
    {
        EnsureSums();
        if (Partitioned is { } split) return split.LaunchOrderNs(Passes);
        if (hullCount == 0) return 0;
        double j = Passes;
        while (hullAt + 1 < hullCount && Intercept(hull[hullAt + 1]) + Slope(hull[hullAt + 1]) * j >= Intercept(hull[hullAt]) + Slope(hull[hullAt]) * j)
            hullAt++;
        // The exact bound of the envelope's line and its neighbours: a near tie cannot pick a different value.
        var best = 0.0;
        for (var k = Math.Max(0, hullAt - 1); k <= Math.Min(hullCount - 1, hullAt + 1); k++)
        {
            var i = hull[k];
            best = Math.Max(best, AttentionMakespan.PerHeadTermNs(drained0[i] + drainRate[i] * Passes, context0[FirstLine + i] + Passes,
                shape.BytesPerToken, shape.Bandwidth, shape.PerBlock, shape.Slots));
        }
        return best;
    }

    // Launches that split KV into partitions (vLLM's PagedAttention v2, split FlashAttention-2, the split kernel): their sums
    // are kept by the cost model's PartitionedStandingSums, which rebuilds them when a member crosses into a new partition.
    private PartitionedStandingSums? partitioned;

    /// <summary>The sums of a launch that splits KV; null with one block per head (this batch's own sums then hold).</summary>
    public PartitionedStandingSums? Partitioned
    {
        get
        {
            EnsureSums();
            return shape.OneBlockPerHead ? null : partitioned;
        }
    }

    private void StartPartitioned()
    {
        partitioned ??= new PartitionedStandingSums();
        partitioned.Start(context0.AsSpan(0, Count), shape, horizon - 1);
    }

    /// <summary>Drops the next batch's members (no references kept) and reports that it cannot stand.</summary>
    private bool Abandon(int n)
    {
        Array.Clear(next, 0, n);
        return false;
    }

    private static void Grow<T>(ref T[] array, int size)
    {
        if (array.Length < size) array = new T[Math.Max(size, 2 * array.Length)];
    }
}
